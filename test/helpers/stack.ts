import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { inject } from 'vitest';
import { sha256Hex } from '../../src/api/auth';
import { listen } from '../../src/api/server';
import { loadConfig, type Config } from '../../src/shared/config';
import { createWorkers } from '../../src/worker/worker';
import { installTestRuntime } from './runtime';

/** What a test reaches a running scheduler by: its API (with the key), its share, a Temporal client. */
export interface ApiAccess {
  url: string;
  key: string;
  client: Client;
  sharePath: string;
  /** fetch against the API with the key set. */
  api(pathname: string, init?: RequestInit): Promise<Response>;
}

export interface Stack extends ApiAccess {
  config: Config;
  /** Stops the workers as a deploy does (running scripts get WORKER_SHUTDOWN_GRACE), then starts new ones. */
  restartWorkers(): Promise<void>;
  stop(): Promise<void>;
}


/**
 * A worker serving every queue and the API on a free port, against the test server, with a
 * share directory outside the repository and task queues of its own.
 */
export interface WorkerSet {
  /** Queues this worker serves (default: all). */
  queues?: string[];
  /** The environment its scripts inherit (scrubbed). */
  env?: NodeJS.ProcessEnv;
}

export async function startStack(
  env: Record<string, string> = {},
  workerEnv: NodeJS.ProcessEnv = process.env,
  workerSets: WorkerSet[] = [{}],
): Promise<Stack> {
  installTestRuntime();
  const address = inject('temporalAddress');
  const sharePath = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-share-'));
  const key = `key-${randomUUID()}`;
  const config = loadConfig({
    SHARE_PATH: sharePath,
    TASK_QUEUE_PREFIX: `t${randomUUID().slice(0, 8)}-`,
    TEMPORAL_ADDRESS: address,
    GOD_PASSWORD_SHA256: sha256Hex(key),
    API_HOST: '127.0.0.1',
    WORKER_SHUTDOWN_GRACE: '1s',
    CONCURRENT_TASKS: '4',
    ...env,
  });
  const log = pino({ level: 'silent' });
  const workerConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  const startWorkers = () =>
    Promise.all(
      workerSets.map((set) =>
        createWorkers({
          config,
          connection: workerConnection,
          namespace: 'default',
          log,
          queues: set.queues,
          workflowBundle: { codePath: inject('workflowBundlePath') },
          env: set.env ?? workerEnv,
        }),
      ),
    );
  let workers = await startWorkers();
  let running = Promise.all(workers.map((w) => w.run()));
  await Promise.all(workers.map((w) => w.warmUp())); // as npm start
  const server = await listen({ config, client, log }, 0);
  return {
    url: server.url,
    key,
    config,
    client,
    sharePath,
    api: (pathname, init = {}) =>
      fetch(`${server.url}${pathname}`, { ...init, headers: { 'x-api-key': key, ...(init.headers ?? {}) } }),
    async restartWorkers() {
      await Promise.all(workers.map((w) => w.shutdown()));
      await running;
      workers = await startWorkers();
      running = Promise.all(workers.map((w) => w.run()));
    },
    async stop() {
      await server.close();
      await Promise.all(workers.map((w) => w.shutdown()));
      await running;
      await workerConnection.close();
      await connection.close();
      fs.rmSync(sharePath, { recursive: true, force: true });
    },
  };
}

export interface Submission {
  script?: { name: string; content: string | Buffer };
  file?: { name: string; content: string | Buffer };
  params?: unknown;
  name?: string;
  config?: unknown;
  process?: string;
}

export function jobForm(s: Submission): FormData {
  const form = new FormData();
  if (s.process) form.set('process', s.process);
  if (s.script) form.set('script', new Blob([s.script.content]), s.script.name);
  if (s.file) form.set('file', new Blob([s.file.content]), s.file.name);
  if (s.params !== undefined) form.set('params', typeof s.params === 'string' ? s.params : JSON.stringify(s.params));
  if (s.name) form.set('name', s.name);
  if (s.config !== undefined) form.set('config', typeof s.config === 'string' ? s.config : JSON.stringify(s.config));
  return form;
}

export async function submit(stack: ApiAccess, s: Submission): Promise<{ status: number; body: any }> {
  const res = await stack.api('/jobs', { method: 'POST', body: jobForm(s) });
  return { status: res.status, body: await res.json() };
}

export async function details(stack: ApiAccess, id: string): Promise<any> {
  const res = await stack.api(`/jobs/${id}/details`);
  if (res.status !== 200) throw new Error(`details ${id}: ${res.status} ${await res.text()}`);
  return res.json();
}

const DONE = ['SUCCESS', 'FAILURE', 'REVOKED'];

/** Polls the job's details until it ends (or `timeoutMs`), calling `onPoll` with each reading. */
export async function waitForEnd(stack: ApiAccess, id: string, onPoll: (d: any) => void = () => {}, timeoutMs = 45_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await details(stack, id);
    onPoll(d);
    if (DONE.includes(d.status)) return d;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${d.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Polls `check` until it returns a value other than undefined. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** True while `pid` runs (a zombie waiting to be reaped counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

export const REPO = path.resolve(__dirname, '..', '..');
export const readScript = (rel: string) => fs.readFileSync(path.join(REPO, rel), 'utf8');
