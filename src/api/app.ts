import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import express from 'express';
import { Registry } from 'prom-client';
import swaggerUiDist from 'swagger-ui-dist';
import type { Config } from '../shared/config';
import { probe, type Readiness } from '../shared/health';
import { jobMetricsRegistry } from '../shared/job-metrics';
import type { Logger } from '../shared/log';
import { requireApiKey } from './auth';
import { cancelJob, deleteJob, streamLog } from './job-actions';
import { streamEvents } from './events';
import { uiRouter } from './ui';
import { jobIdParam } from './job-id';
import { outputsRouter } from './outputs';
import { listJobs, parseListQuery } from './list';
import { createMetrics } from './metrics';
import { CONTROL_QUEUE, taskQueueName } from '../shared/queues';
import { badRequest, errorHandler, notFound } from './errors';
import { describeJob, JobNotFoundError, readJob, readJobInput, readJobState, submittedJob, taskMeta } from './job-state';
import { listProcesses, unknownProcess } from './processes';
import { processScript } from '../shared/processes';
import { inspectAnyScript, inspectScript, ScriptParseError, type ScriptInfo } from './script-options';
import { AppliedSubmitConfig } from './schemas';
import { openApiDocument } from './openapi';
import { rerunJob, submitJob } from './submit';
import { paramsSchema, readParamSpecs } from '../shared/param-specs';
import { API_VERSION } from './version';


const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>PiXYZ API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/docs-init.js"></script>
</body>
</html>`;

export interface ApiDeps {
  config: Config;
  client: Client;
  log: Logger;
  newId?: () => string;
}

/** A script as users write them, parsed once when the API starts. */
const WARM_UP_SOURCE = 'export const main = pixyzSchedule({ queue: "cpu", timeLimit: 60 }, async (pc, params) => params);';


/** How long /readyz waits for Temporal's answer. */
const READY_DEADLINE_MS = 2000;

async function or404<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (err) {
    if (err instanceof JobNotFoundError) throw notFound(err.message);
    throw err;
  }
}

/** The HTTP facade: upstream's routes and shapes over one shared Temporal client. */
export function createApp({ config, client, log, newId = () => crypto.randomUUID() }: ApiDeps): express.Express {
  // The submission path's parsers do their first-time work now, not in the first POST /jobs.
  inspectScript('warm-up.ts', WARM_UP_SOURCE, 'main');
  AppliedSubmitConfig.safeParse({ entrypoint: 'main' });
  const app = express();
  app.disable('x-powered-by');
  app.set('strict routing', true);
  const auth = requireApiKey(config.godPasswordSha256);
  // This deployment's jobs: a namespace may hold others' (another TASK_QUEUE_PREFIX).
  const jobs = { client, sharePath: config.sharePath, controlQueue: taskQueueName(config.taskQueuePrefix, CONTROL_QUEUE) };
  const metrics = createMetrics(jobs, log);
  const ui = uiRouter({ temporalUiUrl: config.temporal.uiUrl, namespace: client.options.namespace });
  app.use(metrics.middleware);

  // CORS as upstream: any origin, with credentials.
  app.use((req, res, next) => {
    const origin = req.header('origin');
    if (origin) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS' && req.header('access-control-request-method')) {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', req.header('access-control-request-headers') ?? '*');
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(200).end();
      return;
    }
    next();
  });

  // No trailing slash, as upstream: /jobs/ → 307 /jobs (the method and body are kept). The
  // target is always a path on this server: `//host/` must not become a redirect elsewhere.
  app.use((req, res, next) => {
    if (req.path.length > 1 && req.path.endsWith('/')) {
      const q = req.originalUrl.indexOf('?');
      const query = q >= 0 ? req.originalUrl.slice(q) : '';
      res.redirect(307, `/${req.path.replace(/^\/+|\/+$/g, '')}${query}`);
      return;
    }
    next();
  });

  app.get('/', (_req, res) => {
    res.type('text/plain').send(`Welcome to PiXYZ API v${API_VERSION}!`);
  });

  // The spec and interactive docs, served from the swagger-ui-dist package (no CDN: may be offline).
  const spec = openApiDocument();
  app.get('/openapi.json', (_req, res) => {
    res.json(spec);
  });
  app.get('/docs', (_req, res) => {
    res.type('html').send(DOCS_PAGE);
  });
  app.get('/docs/assets/docs-init.js', (_req, res) => {
    // In a file of its own, not inline: a strict Content-Security-Policy may forbid inline scripts.
    res.type('application/javascript').send("window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', persistAuthorization: true });");
  });
  app.use('/docs/assets', express.static(swaggerUiDist.getAbsoluteFSPath(), { index: false, maxAge: '1d' }));

  // Probes for an orchestrator: alive while the process answers, ready while Temporal does.
  const readiness: Readiness = async () => {
    await client.withDeadline(Date.now() + READY_DEADLINE_MS, () => client.workflowService.getSystemInfo({}));
    return { ready: true, detail: `Temporal answers (namespace ${client.options.namespace})` };
  };
  for (const route of ['/livez', '/readyz']) {
    app.get(route, async (req, res) => {
      const [status, body] = (await probe(req.path, readiness))!;
      if (status !== 200) body.detail = `Temporal does not answer: ${body.detail}`;
      res.status(status).json(body);
    });
  }

  app.get('/metrics', async (_req, res) => {
    // The job metrics are counted by the worker: in one process (npm start) they are ours too.
    const merged = Registry.merge([metrics.registry, jobMetricsRegistry]);
    res.type(merged.contentType).send(await merged.metrics());
  });

  app.post('/dev/callback', express.json({ limit: '1mb' }), (req, res) => {
    if (req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
      throw badRequest('Expected a JSON object');
    }
    log.info({ callback: req.body }, 'dev callback');
    res.json(null);
  });

  app.get('/backend/get_task_meta/:id', auth, async (req, res) => {
    res.json(await taskMeta(jobs, jobIdParam(req)));
  });

  app.get('/processes', async (_req, res) => {
    res.json({ processes: await listProcesses(config.processPath) });
  });

  app.get('/processes/:name', async (req, res) => {
    const name = String(req.params.name);
    const file = processScript(config.processPath, name);
    if (!file) throw badRequest(await unknownProcess(config.processPath, name));
    let info: ScriptInfo;
    try {
      info = await inspectAnyScript(file, await fsp.readFile(file, 'utf8'), 'main', config.python);
    } catch (err) {
      if (err instanceof ScriptParseError) throw notFound(`Process '${name}' has no main function`);
      throw err;
    }
    // Beyond upstream: the params it declares, as a JSON Schema (the dashboard's form).
    const read = info.options.params === undefined ? null : readParamSpecs(info.options.params);
    const params = read && 'specs' in read ? { params: paramsSchema(read.specs) } : {};
    res.json({ doc: `Process '${name}' documentation:\n\n${info.doc ?? 'None'}`, ...params });
  });

  app.get('/jobs', auth, async (req, res) => {
    res.json(await listJobs(jobs, parseListQuery(req.query as Record<string, unknown>)));
  });

  app.post('/jobs', auth, async (req, res) => {
    const state = await submitJob(req, { config, client, newId, onSubmitted: metrics.jobSubmitted });
    log.info({ job: state.uuid, name: state.name }, 'job submitted');
    res.json(state);
  });

  app.get('/jobs/:id', auth, async (req, res) => {
    res.json(await or404(readJobState(jobs, jobIdParam(req))));
  });

  app.get('/jobs/:id/details', auth, async (req, res) => {
    res.json(await or404(readJob(jobs, jobIdParam(req))));
  });

  // Beyond upstream: what the job was submitted with (the dashboard's job page shows it).
  app.get('/jobs/:id/input', auth, async (req, res) => {
    const id = jobIdParam(req);
    if (!(await describeJob(jobs, id))) throw notFound(`Job '${id}' does not exist`);
    const input = await readJobInput(client, id);
    if (!input) throw notFound(`Job '${id}' has no start input left in Temporal`);
    res.json(submittedJob(input));
  });

  // Beyond upstream: the same job again, as a new one (the dashboard's "Run again").
  app.post('/jobs/:id/rerun', auth, async (req, res) => {
    const id = jobIdParam(req);
    if (!(await describeJob(jobs, id))) throw notFound(`Job '${id}' does not exist`);
    const state = await rerunJob(client, config, id, newId());
    log.info({ job: state.uuid, from: id }, 'job submitted again');
    res.json(state);
  });

  app.post('/jobs/:id/cancel', auth, async (req, res) => {
    const id = jobIdParam(req);
    await cancelJob(jobs, id);
    res.json(await or404(readJobState(jobs, id)));
  });

  app.delete('/jobs/:id', auth, async (req, res) => {
    const id = jobIdParam(req);
    // Read before: a job Temporal has forgotten is known only by the directory this removes.
    const before = await or404(readJobState(jobs, id));
    const { removed } = await deleteJob(jobs, id);
    const after = await readJobState(jobs, id).catch(() => before);
    res.json({ ...after, deleted: removed });
  });

  // The dashboard (its own requests carry the key; the page itself needs none).
  app.use(ui);

  // Beyond upstream: the job as a live event stream (the CLI and the dashboard watch it).
  app.get('/jobs/:id/events', auth, async (req, res) => {
    await streamEvents(jobs, jobIdParam(req), req, res);
  });

  app.get('/jobs/:id/logs', auth, async (req, res) => {
    const follow = req.query.follow === 'true' || req.query.follow === '1';
    await streamLog(jobs, jobIdParam(req), follow, res);
  });

  app.use(outputsRouter({ sharePath: config.sharePath, jobs, auth }));

  app.use((_req, res) => {
    res.status(404).json({ detail: 'Not Found' }); // upstream's (FastAPI's) body for an unknown route
  });
  app.use(errorHandler(log));
  return app;
}
