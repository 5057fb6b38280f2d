// The scheduler as separate processes — a Temporal dev server on a SQLite file, a worker, the API —
// so that a fault test can kill any one of them (SIGKILL, as the OOM killer or a power cut would)
// and start it again on the same state.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { sha256Hex } from '../../src/api/auth';
import { REPO_ROOT } from '../../src/shared/config';
import { freePort, startDevServer, type DevServer } from '../../src/shared/dev-server';
import { ensureTemporalCli } from '../../tools/temporal-cli.cjs';
import type { ApiAccess } from './stack';

const TSX = pathToFileURL(require.resolve('tsx')).href;

/** `client` reconnects by itself after a server restart. */
export interface Cluster extends ApiAccess {
  /** SIGKILL to the worker's process group: the worker and, through their closed IPC channel, its script processes. */
  killWorker(): Promise<void>;
  startWorker(): Promise<void>;
  killServer(): Promise<void>;
  /** The server again, on the same port and database file. */
  startServer(): Promise<void>;
  killApi(): Promise<void>;
  startApi(): Promise<void>;
  /** The process ids of the worker's script processes (children of the worker). */
  scriptPids(): number[];
  /** What the worker and the API have logged so far (JSON lines). */
  logs(): { worker: string; api: string };
  stop(): Promise<void>;
}

interface Proc {
  child: ChildProcess;
  exited: Promise<void>;
}

function startProcess(entry: string, env: NodeJS.ProcessEnv, log: string, ready: (line: string) => boolean): Promise<Proc> {
  const out = fs.openSync(log, 'a');
  const child = spawn(process.execPath, ['--import', TSX, path.join(REPO_ROOT, entry)], {
    cwd: REPO_ROOT,
    env,
    detached: true, // its own process group, killed as one
    stdio: ['ignore', 'pipe', out],
  });
  fs.closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      fs.appendFileSync(log, chunk);
      seen += chunk.toString();
      if (seen.split('\n').some(ready)) {
        child.stdout!.off('data', onData);
        child.stdout!.on('data', (c: Buffer) => fs.appendFileSync(log, c));
        resolve({ child, exited });
      }
    };
    child.stdout!.on('data', onData);
    void exited.then(() => reject(new Error(`${entry} exited before it was ready; see ${log}`)));
  });
}

async function killGroup(proc: Proc | undefined): Promise<void> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  try {
    process.kill(-proc.child.pid!, 'SIGKILL');
  } catch {
    // gone already
  }
  await proc.exited;
}

export async function startCluster(env: Record<string, string> = {}): Promise<Cluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-cluster-'));
  const sharePath = env.SHARE_PATH ?? path.join(dir, 'share');
  fs.mkdirSync(sharePath, { recursive: true });
  const key = `key-${randomUUID()}`;
  const serverPort = await freePort();
  const apiPort = await freePort();
  const cli = ensureTemporalCli();
  const dbFile = path.join(dir, 'temporal.db');
  let server: DevServer | undefined;
  const startServer = async () => {
    server = await startDevServer({ cliPath: cli.path, port: serverPort, namespace: 'default', logFile: path.join(dir, 'temporal.log'), dbFile });
  };
  await startServer();
  const address = `127.0.0.1:${serverPort}`;
  const base: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: address,
    SHARE_PATH: sharePath,
    TASK_QUEUE_PREFIX: `f${randomUUID().slice(0, 8)}-`,
    GOD_PASSWORD_SHA256: sha256Hex(key),
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    WORKER_SHUTDOWN_GRACE: '1s',
    LOG_LEVEL: 'info',
    ...env,
  };
  let worker: Proc | undefined;
  let api: Proc | undefined;
  const startWorker = async () => {
    worker = await startProcess('src/worker/main.ts', base, path.join(dir, 'worker.log'), (l) => l.includes('worker ready'));
  };
  const startApi = async () => {
    api = await startProcess('src/api/main.ts', base, path.join(dir, 'api.log'), (l) => l.includes('API listening'));
  };
  await Promise.all([startWorker(), startApi()]);
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  const url = `http://127.0.0.1:${apiPort}`;
  return {
    url,
    key,
    sharePath,
    client,
    api: (pathname, init = {}) => fetch(`${url}${pathname}`, { ...init, headers: { 'x-api-key': key, ...(init.headers ?? {}) } }),
    killWorker: () => killGroup(worker),
    startWorker,
    async killServer() {
      if (!server) return;
      try {
        process.kill(server.process.pid!, 'SIGKILL');
      } catch {
        // gone already
      }
      await new Promise<void>((resolve) => (server!.process.exitCode !== null || server!.process.signalCode !== null ? resolve() : server!.process.once('exit', () => resolve())));
      server = undefined;
    },
    startServer,
    killApi: () => killGroup(api),
    startApi,
    logs: () => ({
      worker: fs.readFileSync(path.join(dir, 'worker.log'), 'utf8'),
      api: fs.readFileSync(path.join(dir, 'api.log'), 'utf8'),
    }),
    scriptPids() {
      if (!worker?.child.pid) return [];
      const pids: number[] = [];
      for (const entry of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        try {
          const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
          const [, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          if (Number(ppid) === worker.child.pid && fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('runner')) pids.push(Number(entry));
        } catch {
          // gone meanwhile
        }
      }
      return pids;
    },
    async stop() {
      await Promise.all([killGroup(worker), killGroup(api)]);
      await connection.close();
      await server?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
