import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SEARCH_ATTRIBUTES } from './search-attributes';
import { connectWithRetry } from './temporal';

/**
 * The embedded server's SQLite file in write-ahead-log mode, synced at checkpoints rather than at
 * every commit: measured here, 200 no-op workflows at once ran at 80/s instead of 30/s, with half
 * the CPU per workflow. A committed transaction survives a crash of the process (the log is on
 * disk); only an OS crash or power loss may drop the last ones (SQLite's documented trade-off).
 */
export const SQLITE_PRAGMAS: Readonly<Record<string, string>> = Object.freeze({ journal_mode: 'wal', synchronous: 'normal' });
/**
 * One host: one matching partition per task queue (no forwarding of tasks and polls between
 * partitions), and history's queues read as often as tasks come. The dev server has one history
 * shard, whose transfer, timer and visibility queues Temporal reads at most 20 times a second by
 * default: past ~15 workflows in a row, every task then waited for the next read, and a workflow
 * with one activity took ~150 ms instead of ~30 ms (`npm run bench:server`).
 */
export const SINGLE_HOST_DYNAMIC_CONFIG: Readonly<Record<string, unknown>> = Object.freeze({
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
  'history.transferProcessorMaxPollRPS': 1000,
  'history.timerProcessorMaxPollRPS': 1000,
  'history.visibilityProcessorMaxPollRPS': 1000,
});

export interface DevServerOptions {
  cliPath: string;
  ip?: string;
  port: number;
  /** Web UI port; undefined runs headless. */
  uiPort?: number;
  /** SQLite file; undefined keeps state in memory. */
  dbFile?: string;
  namespace: string;
  logFile: string;
  startTimeoutMs?: number;
  /** SQLite pragmas (`--sqlite-pragma name=value`) of a file-backed server; default SQLITE_PRAGMAS. */
  sqlitePragmas?: Readonly<Record<string, string>>;
  /** Dynamic config values (`--dynamic-config-value key=value`, value as JSON); default SINGLE_HOST_DYNAMIC_CONFIG. */
  dynamicConfig?: Readonly<Record<string, unknown>>;
  /** Called as soon as the process exists, so a caller stopping early can still kill it. */
  onSpawn?: (kill: () => void) => void;
  /** A command the server runs under, e.g. `ip netns exec <host>` (a test's network namespace). */
  wrap?: readonly string[];
  /** Where clients reach it, when not at `ip` (a server bound to 0.0.0.0 on a host of its own). */
  address?: string;
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function tail(file: string, bytes = 2000): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.slice(-bytes);
  } catch {
    return '';
  }
}

/**
 * Runs `temporal server start-dev` in its own process group and waits until it answers.
 * Search attributes are passed at start; a re-used SQLite file still needs ensureSearchAttributes.
 */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const ip = opts.ip ?? '127.0.0.1';
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(opts.port), '--log-level', 'warn'];
  if (opts.namespace !== 'default') args.push('--namespace', opts.namespace);
  if (opts.uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(opts.uiPort));
  if (opts.dbFile) {
    fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  if (opts.dbFile) {
    for (const [name, value] of Object.entries(opts.sqlitePragmas ?? SQLITE_PRAGMAS)) args.push('--sqlite-pragma', `${name}=${value}`);
  }
  for (const [key, value] of Object.entries(opts.dynamicConfig ?? SINGLE_HOST_DYNAMIC_CONFIG)) args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  for (const key of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const log = fs.openSync(opts.logFile, 'a');
  const [command, ...commandArgs] = [...(opts.wrap ?? []), opts.cliPath, ...args];
  const child = spawn(command!, commandArgs, { stdio: ['ignore', log, log], detached: true });
  fs.closeSync(log);
  opts.onSpawn?.(() => {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      /* gone */
    }
  });
  let exited: string | null = null;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = `exited with ${signal ?? `code ${code}`}`;
      resolve();
    }),
  );
  const spawnFailed = new Promise<void>((resolve) =>
    child.once('error', (err) => {
      exited = `could not start (${err.message})`;
      resolve();
    }),
  );

  const address = opts.address ?? `${ip}:${opts.port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  const stop = async () => {
    if (exited === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        /* gone */
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 5000);
      await exitPromise;
      clearTimeout(timer);
    }
  };
  try {
    const ready = connectWithRetry(address, deadline);
    const failedEarly = Promise.race([exitPromise, spawnFailed]).then(() => {
      throw new Error(`temporal server start-dev ${exited}:\n${tail(opts.logFile)}`);
    });
    const connection = await Promise.race([ready, failedEarly]);
    await connection.close();
  } catch (err) {
    await stop();
    throw err;
  }
  return { address, uiUrl: opts.uiPort === undefined ? null : `http://${ip === '0.0.0.0' ? 'localhost' : ip}:${opts.uiPort}`, process: child, stop };
}
