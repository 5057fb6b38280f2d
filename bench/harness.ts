// A scheduler in this process for benchmarks: its own in-memory dev server (or TEMPORAL_ADDRESS),
// a worker on every queue, the API on a free port.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import pino from 'pino';
import { ensureTemporalCli } from '../tools/temporal-cli.cjs';
import { sha256Hex } from '../src/api/auth';
import { listen } from '../src/api/server';
import { loadConfig } from '../src/shared/config';
import { freePort, startDevServer } from '../src/shared/dev-server';
import { createWorkers } from '../src/worker/worker';

export interface BenchStack {
  url: string;
  key: string;
  address: string;
  /** The embedded server's pid (undefined with TEMPORAL_ADDRESS). */
  serverPid: number | undefined;
  /** SHARE_PATH of this stack. */
  sharePath: string;
  taskQueue(queue: string): string;
  /** Submits `script` (content) and polls until it ends; returns ms from POST to SUCCESS. */
  runJob(scriptName: string, script: Buffer, params?: unknown, entrypoint?: string): Promise<number>;
  /** Submits a predefined process with a model file; ms from POST to SUCCESS, and the job's log. */
  runProcess(processName: string, file: string, params?: unknown): Promise<{ ms: number; log: string }>;
  /** Stops the workers as a deploy does (running scripts get WORKER_SHUTDOWN_GRACE), then starts new ones. */
  restartWorkers(): Promise<void>;
  stop(): Promise<void>;
}

export const POLL_MS = 20;

export interface BenchStackOptions {
  /** Keep the embedded server's state in a SQLite file, as `npm start` does (default: in memory). */
  dbFile?: boolean;
}

export async function startBenchStack(env: Record<string, string> = {}, opts: BenchStackOptions = {}): Promise<BenchStack> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-bench-'));
  const server = process.env.TEMPORAL_ADDRESS
    ? undefined
    : await startDevServer({ cliPath: ensureTemporalCli().path, port: await freePort(), namespace: 'default', logFile: path.join(tmp, 'temporal.log'), ...(opts.dbFile ? { dbFile: path.join(tmp, 'temporal.db') } : {}) });
  const address = process.env.TEMPORAL_ADDRESS ?? server!.address;
  const key = randomUUID();
  const config = loadConfig({
    SHARE_PATH: path.join(tmp, 'share'),
    TASK_QUEUE_PREFIX: `bench-${randomUUID().slice(0, 8)}-`,
    TEMPORAL_ADDRESS: address,
    GOD_PASSWORD_SHA256: sha256Hex(key),
    API_HOST: '127.0.0.1',
    WORKER_SHUTDOWN_GRACE: '1s',
    ...env,
  });
  const log = pino({ level: 'silent' });
  const workerConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  let workers = await createWorkers({ config, connection: workerConnection, namespace: 'default', log });
  let running = workers.run();
  await workers.warmUp(); // as npm start
  const api = await listen({ config, client: new Client({ connection }), log }, 0);
  const headers = { 'x-api-key': key };

  async function runJob(scriptName: string, script: Buffer, params: unknown = {}, entrypoint = 'main'): Promise<number> {
    const form = new FormData();
    form.set('script', new Blob([script]), scriptName);
    form.set('params', JSON.stringify(params));
    form.set('config', JSON.stringify({ entrypoint }));
    return (await submitAndWait(form)).ms;
  }

  async function runProcess(processName: string, file: string, params: unknown = {}) {
    const form = new FormData();
    form.set('process', processName);
    form.set('file', await fs.openAsBlob(file), path.basename(file));
    form.set('params', JSON.stringify(params));
    const { ms, uuid } = await submitAndWait(form);
    return { ms, log: await (await fetch(`${api.url}/jobs/${uuid}/logs`, { headers })).text() };
  }

  async function submitAndWait(form: FormData): Promise<{ ms: number; uuid: string }> {
    const started = performance.now();
    const res = await fetch(`${api.url}/jobs`, { method: 'POST', body: form, headers });
    const { uuid } = (await res.json()) as { uuid: string };
    for (;;) {
      const d = (await (await fetch(`${api.url}/jobs/${uuid}`, { headers })).json()) as { status: string; error: string | null };
      if (d.status === 'SUCCESS') return { ms: performance.now() - started, uuid };
      if (d.status === 'FAILURE' || d.status === 'REVOKED') throw new Error(`bench job ${uuid} ended ${d.status}: ${d.error}`);
      // Poll often while a job is short, less once it runs long: polling costs CPU the job needs.
      await new Promise((r) => setTimeout(r, Math.min(200, POLL_MS + (performance.now() - started) / 50)));
    }
  }

  return {
    url: api.url,
    key,
    address,
    serverPid: server?.process.pid,
    sharePath: config.sharePath,
    taskQueue: (queue) => `${config.taskQueuePrefix}${queue}`,
    runJob,
    runProcess,
    async restartWorkers() {
      await workers.shutdown();
      await running;
      workers = await createWorkers({ config, connection: workerConnection, namespace: 'default', log });
      running = workers.run();
    },
    async stop() {
      await api.close();
      await workers.shutdown();
      await running;
      await workerConnection.close();
      await connection.close();
      await server?.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Busy CPU time of the whole machine so far, in ms (all cores; /proc/stat, 100 ticks a second). */
export function machineCpuMs(): number {
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const [user, nice, system, _idle, _iowait, irq, softirq, steal] = fields as [number, number, number, number, number, number, number, number];
  return (user + nice + system + irq + softirq + steal) * 10;
}

/** CPU time (user + system) of one process so far, in ms; 0 when it is gone. */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** CPU time (user + system, ms) of this process's threads so far, summed by thread name (tokio-runtime-w, libuv-worker, …). */
export function threadCpuMs(): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byName.set(name, (byName.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) * 10);
    } catch {
      // the thread ended meanwhile
    }
  }
  return byName;
}

/** What each thread name used between two threadCpuMs() readings, per `n` (e.g. per job), largest first. */
export function threadSplit(before: Map<string, number>, after: Map<string, number>, n: number): string {
  return [...after]
    .map(([name, ms]) => [name, (ms - (before.get(name) ?? 0)) / n] as const)
    .filter(([, ms]) => ms >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([name, ms]) => `${name} ${ms.toFixed(1)}`)
    .join(', ');
}

export function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { median: at(0.5), p90: at(0.9), min: s[0]!, max: s.at(-1)! };
}

export function fmt(x: ReturnType<typeof stats>): string {
  return `median ${x.median.toFixed(0)} ms, p90 ${x.p90.toFixed(0)} ms, min ${x.min.toFixed(0)} ms, max ${x.max.toFixed(0)} ms`;
}
