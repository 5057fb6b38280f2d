// `npm start`: the whole scheduler on one machine — the embedded Temporal dev server (unless
// TEMPORAL_ADDRESS names one), a worker serving every queue, and the HTTP API.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { ensureTemporalCli } from '../tools/temporal-cli.cjs';
import { sha256Hex } from './api/auth';
import { startOrphanSweeper } from './api/orphans';
import { listen } from './api/server';
import { loadConfig, REPO_ROOT, type Config } from './shared/config';
import { startDevServer, type DevServer } from './shared/dev-server';
import { createLogger, type Logger } from './shared/log';
import { apiConnectionOptions, connectionOptions, ensureSearchAttributes, setRetention } from './shared/temporal';
import { createWorkers, installTemporalRuntime } from './worker/worker';

function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The API key `npm start` generates once when GOD_PASSWORD_SHA256 is unset. */
function readOrCreateApiKey(file: string): { key: string; created: boolean } {
  if (fs.existsSync(file)) return { key: fs.readFileSync(file, 'utf8').trim(), created: false };
  const key = crypto.randomBytes(24).toString('base64url');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return { key, created: true };
}

const SERVER_PID_FILE = path.join(REPO_ROOT, '.temporal', 'server.pid');

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops a dev server that an earlier `npm start` left running because it was killed, not
 * stopped. A server whose `npm start` still runs is left alone (the port check then says so).
 */
async function stopLeftoverServer(log: Logger): Promise<void> {
  let pid: number;
  try {
    const recorded = JSON.parse(fs.readFileSync(SERVER_PID_FILE, 'utf8')) as { server: number; owner: number };
    pid = recorded.server;
    if (isRunning(recorded.owner)) return;
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('start-dev')) return;
  } catch {
    return; // no pid file, or that process is gone
  }
  log.warn(`stopping the Temporal dev server an earlier run left behind (pid ${pid})`);
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 50 && fs.existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 100));
}

async function startEmbeddedServer(config: Config, log: Logger): Promise<DevServer> {
  const { devPort, uiPort } = config.temporal;
  await stopLeftoverServer(log);
  for (const [port, what] of [
    [devPort, 'TEMPORAL_DEV_PORT'],
    [uiPort, 'TEMPORAL_UI_PORT'],
  ] as const) {
    if (await portInUse(port)) {
      throw new Error(
        `Port ${port} (${what}) is already in use — perhaps a Temporal server from an earlier run. ` +
          `Stop it, choose another ${what}, or set TEMPORAL_ADDRESS=127.0.0.1:${devPort} to use a server that is already running.`,
      );
    }
  }
  const cli = ensureTemporalCli({ log: (m) => log.info(m) });
  log.info(`starting Temporal dev server (${cli.path}) on :${devPort}, UI on :${uiPort}`);
  const server = await startDevServer({
    cliPath: cli.path,
    ip: '127.0.0.1',
    port: devPort,
    uiPort,
    dbFile: config.temporal.devDbFile,
    namespace: config.temporal.namespace,
    logFile: path.join(REPO_ROOT, '.temporal', 'server.log'),
    onSpawn: (kill) => cleanups.push(async () => kill()),
  });
  fs.writeFileSync(SERVER_PID_FILE, JSON.stringify({ server: server.process.pid, owner: process.pid }));
  return {
    ...server,
    stop: async () => {
      await server.stop();
      fs.rmSync(SERVER_PID_FILE, { force: true });
    },
  };
}

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

async function main(log: Logger, generateKey: boolean): Promise<void> {
  let config = loadConfig();
  fs.mkdirSync(config.sharePath, { recursive: true });

  const server = config.temporal.address ? undefined : await startEmbeddedServer(config, log);
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
      `  API:         ${api.url}`,
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
  const log = createLogger(process.env.LOG_LEVEL || 'info', 'pixyz');
  installTemporalRuntime(log, process.env.WORKER_METRICS_ADDRESS || undefined);
  // SIGTERM or SIGINT to this process alone (a process manager, `kill PID`) stops it as Ctrl-C does.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      log.info(`${signal}: stopping`);
      void shutdown(log, 0);
    });
  }
  main(log, generateKey).catch((err) => {
    log.error(err instanceof Error ? err.message : String(err));
    void shutdown(log, 1);
  });
}

if (require.main === module) runAll();
