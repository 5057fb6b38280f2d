// Liveness and readiness for an orchestrator (Kubernetes probes, compose healthchecks): `/livez`
// answers while the process runs, `/readyz` while it can do its work (a worker polls its queues;
// the API reaches Temporal). A worker serves them on WORKER_HEALTH_PORT, with its job metrics at
// `/metrics`; the API on its own port.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** Whether the process can do its work now, and if not, why. */
export type Readiness = () => Promise<{ ready: boolean; detail: string }>;

/** The answer to a probe: status code and JSON body. */
export async function probe(path: string, readiness: Readiness): Promise<[number, { status: string; detail?: string }] | null> {
  if (path === '/livez') return [200, { status: 'alive' }];
  if (path !== '/readyz') return null;
  const { ready, detail } = await readiness().catch((err: Error) => ({ ready: false, detail: err.message }));
  return [ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', detail }];
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/** A server of the two probes and, when given, metrics (a worker has no other HTTP port). */
export async function startHealthServer(port: number, host: string, readiness: Readiness, metrics?: Registry): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/metrics' && metrics) {
      // A collector that throws answers 500, not an unhandled rejection that stops the worker.
      void metrics.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}
`),
      );
      return;
    }
    void probe(path, readiness).then((answer) => {
      const [status, body] = answer ?? [404, { status: 'not found', detail: `probes: /livez, /readyz${metrics ? '; metrics: /metrics' : ''}` }];
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
