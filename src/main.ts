// `npm start`: the whole scheduler on one machine — the embedded Temporal dev server (unless
// TEMPORAL_ADDRESS names one), a worker serving every queue, and the HTTP API.
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { readOrCreateApiKey, sha256Hex } from './api/auth';
import { startOrphanSweeper } from './api/orphans';
import { listen, listensEverywhere } from './api/server';
import { ConfigError, loadConfig, type Config } from './shared/config';
import { startEmbeddedServer } from './shared/embedded-server';
import { createLogger, type Logger } from './shared/log';
import { apiConnectionOptions, connectionOptions, ensureSearchAttributes, setRetention } from './shared/temporal';
import { createWorkers, installTemporalRuntime } from './worker/worker';

/** What to stop, in order, when Ctrl-C comes or start-up fails half-way. */
const cleanups: (() => Promise<void>)[] = [];
let stopping = false;

async function shutdown(log: Logger, code: number): Promise<never> {
  stopping = true;
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (err) {
      log.warn(`while stopping: ${(err as Error).message}`);
    }
  }
  log.info('stopped');
  process.exit(code);
}

async function main(config: Config, log: Logger, generateKey: boolean): Promise<void> {
  fs.mkdirSync(config.sharePath, { recursive: true });

  const server = config.temporal.address ? undefined : await startEmbeddedServer(config, log, (kill) => cleanups.push(async () => kill()));
  if (server) cleanups.push(() => server.stop());
  const { options, namespace } = connectionOptions(config, server?.address);
  const clientConnection = await Connection.connect(apiConnectionOptions(options));
  cleanups.push(() => clientConnection.close());
  try {
    const added = await ensureSearchAttributes(clientConnection, namespace);
    if (added.length) log.info(`registered search attributes ${added.join(', ')}`);
  } catch (err) {
    log.warn(`could not register search attributes (${(err as Error).message}); ask the cluster's operator to add PixyzJobName, PixyzProcess and PixyzStatus (Keyword)`);
  }
  if (server) await setRetention(clientConnection, namespace, config.jobRetentionSeconds);

  let keyNote: string;
  if (config.godPasswordSha256) keyNote = 'API key: the one whose SHA-256 is GOD_PASSWORD_SHA256';
  else if (!generateKey) {
    // A deployment's key is its operator's: set, never generated into the image's files.
    keyNote = 'API key: none (GOD_PASSWORD_SHA256 is not set: every /jobs route answers 401)';
    log.warn('GOD_PASSWORD_SHA256 is not set: every /jobs route answers 401');
  } else {
    const { key, created } = readOrCreateApiKey(config.apiKeyFile);
    config = Object.freeze({ ...config, godPasswordSha256: sha256Hex(key) });
    keyNote = `API key: ${key}  (${created ? 'generated, ' : ''}kept in ${path.relative(process.cwd(), config.apiKeyFile) || config.apiKeyFile})`;
  }

  const workerConnection = await NativeConnection.connect(options);
  cleanups.push(() => workerConnection.close());
  const workers = await createWorkers({ config, connection: workerConnection, namespace, log });
  const running = workers.run();
  // Runs beside the API's start; the banner waits for it (a bounded while), so that the first job
  // is as fast as the next ones.
  const warming = workers.warmUp();
  cleanups.push(async () => {
    log.info(`stopping (running scripts get ${config.worker.shutdownGraceMs / 1000} s to finish)`);
    await workers.shutdown();
  });
  const apiClient = new Client({ connection: clientConnection, namespace });
  const api = await listen({ config, client: apiClient, log });
  cleanups.push(() => api.close());
  const orphans = startOrphanSweeper({ sharePath: config.sharePath, client: apiClient, log });
  cleanups.push(async () => orphans.stop());
  await warming;

  console.log(
    [
      '',
      `  Pixyz Scheduler on Temporal is running`,
      `  API:         ${api.url}${listensEverywhere(config.apiHost) ? `  (all interfaces: API_HOST=${config.apiHost})` : ''}`,
      `  Temporal UI: ${server?.uiUrl ?? `(your server at ${options.address})`}`,
      `  ${keyNote}`,
      `  Share:       ${config.sharePath}`,
      `  Press Ctrl-C to stop.`,
      '',
    ].join('\n'),
  );

  if (stopping) return;
  await running;
}

/**
 * The whole scheduler in this process; exits when it stops. `npm start` generates an API key when
 * none is set; the image's `all` role does not (`generateKey: false`).
 */
export function runAll({ generateKey = true }: { generateKey?: boolean } = {}): void {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
  const log = createLogger(config.logLevel, 'pixyz');
  installTemporalRuntime(log, config.worker.metricsAddress);
  // SIGTERM or SIGINT to this process alone (a process manager, `kill PID`) stops it as Ctrl-C does.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      log.info(`${signal}: stopping`);
      void shutdown(log, 0);
    });
  }
  main(config, log, generateKey).catch((err) => {
    log.error(err instanceof Error ? err.message : String(err));
    void shutdown(log, 1);
  });
}

if (require.main === module) runAll();
