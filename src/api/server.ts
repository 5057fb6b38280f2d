import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type ApiDeps } from './app';

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the API on config.apiHost:apiPort (port 0: any free port). */
export async function listen(deps: ApiDeps, port = deps.config.apiPort): Promise<ApiServer> {
  const server = http.createServer(createApp(deps));
  // Longer than clients' keep-alive, so that a client never reuses a connection the server is
  // closing at that very moment (ECONNRESET on a poll).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, deps.config.apiHost, resolve);
  });
  const { port: actual } = server.address() as AddressInfo;
  const host = deps.config.apiHost === '0.0.0.0' ? '127.0.0.1' : deps.config.apiHost;
  deps.log.info(`API listening on http://${host}:${actual}`);
  return {
    url: `http://${host}:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
