// /metrics: upstream's HTTP metrics (prometheus-fastapi-instrumentator's names), process metrics,
// and job metrics; plus one structured log line a request, with a request id, never the key.
import crypto from 'node:crypto';
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { closedJobStatus } from '../shared/job-status';
import type { Logger } from '../shared/log';
import { JOB_WORKFLOW_TYPE, type JobSource } from './job-state';


export interface ApiMetrics {
  registry: Registry;
  middleware: RequestHandler;
  jobSubmitted(process: string): void;
}

export function createMetrics({ client, controlQueue }: JobSource, log: Logger): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'Total number of requests by method, status and handler.',
    labelNames: ['method', 'status', 'handler'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Latency with only few buckets by handler.',
    labelNames: ['method', 'handler'],
    buckets: [0.1, 0.5, 1],
    registers: [registry],
  });
  const durationHighRes = new Histogram({
    name: 'http_request_duration_highr_seconds',
    help: 'Latency with many buckets but no API specific labels.',
    buckets: [0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 7.5, 10, 30, 60],
    registers: [registry],
  });
  const requestSize = new Summary({
    name: 'http_request_size_bytes',
    help: 'Content length of incoming requests by handler.',
    labelNames: ['handler'],
    registers: [registry],
  });
  const responseSize = new Summary({
    name: 'http_response_size_bytes',
    help: 'Content length of outgoing responses by handler.',
    labelNames: ['handler'],
    registers: [registry],
  });
  const submitted = new Counter({
    name: 'pixyz_jobs_submitted_total',
    help: 'Jobs accepted by POST /jobs, by process.',
    labelNames: ['process'],
    registers: [registry],
  });
  new Gauge({
    name: 'pixyz_jobs',
    help: "Jobs in Temporal's visibility store (within JOB_RETENTION), sub-tasks included, by status.",
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      this.reset();
      try {
        const { groups } = await client.workflow.count(`WorkflowType = "${JOB_WORKFLOW_TYPE}" AND TaskQueue = "${controlQueue}" GROUP BY ExecutionStatus`);
        for (const g of groups) {
          const status = closedJobStatus(String(g.groupValues[0])) ?? 'RUNNING';
          this.inc({ status }, g.count);
        }
      } catch (err) {
        log.warn(`pixyz_jobs: ${(err as Error).message}`);
      }
    },
  });

  // The labelled series of each (method, status class, route) pair, looked up once: prom-client
  // would otherwise serialise the labels on every observation.
  const series = new Map<string, { requests: ReturnType<typeof requests.labels>; duration: ReturnType<typeof duration.labels>; requestSize: ReturnType<typeof requestSize.labels>; responseSize: ReturnType<typeof responseSize.labels> }>();
  const seriesOf = (method: string, status: string, handler: string) => {
    const key = `${method} ${status} ${handler}`;
    let s = series.get(key);
    if (!s) {
      s = {
        requests: requests.labels({ method, status, handler }),
        duration: duration.labels({ method, handler }),
        requestSize: requestSize.labels({ handler }),
        responseSize: responseSize.labels({ handler }),
      };
      series.set(key, s);
    }
    return s;
  };

  const middleware: RequestHandler = (req, res, next) => {
    const started = process.hrtime.bigint();
    const id = crypto.randomUUID();
    res.setHeader('X-Request-Id', id);
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // The route template, not the path: ids must not explode the label set.
      // In upstream's (FastAPI's) notation: /jobs/{id}, /jobs/{id}/outputs/{file_path:path}.
      const handler = req.route
        ? `${req.baseUrl}${String(req.route.path)}`.replace(/\*(\w+)/g, '{$1:path}').replace(/:(\w+)/g, '{$1}')
        : 'none';
      const series = seriesOf(req.method, `${Math.floor(res.statusCode / 100)}xx`, handler);
      series.requests.inc();
      series.duration.observe(seconds);
      durationHighRes.observe(seconds);
      series.requestSize.observe(Number(req.headers['content-length'] ?? 0));
      series.responseSize.observe(Number(res.getHeader('content-length') ?? 0));
      log.info({ req: { id, method: req.method, url: req.originalUrl.split('?')[0] }, status: res.statusCode, ms: Math.round(seconds * 1000) }, 'request');
    });
    next();
  };
  return { registry, middleware, jobSubmitted: (process) => submitted.inc({ process }) };
}
