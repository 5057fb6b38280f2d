// How long one trivial job takes from POST /jobs to SUCCESS, against the same script run
// directly in a script process (fork + IPC, no Temporal): the ratio is the scheduler's overhead.
//
//   npm run bench            (starts its own in-memory dev server; TEMPORAL_ADDRESS to use one)
//   BENCH_JOBS=20 npm run bench
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import pino from 'pino';
import { ensureTemporalCli } from '../tools/temporal-cli.cjs';
import { RUNNER, runnerExecArgv } from '../src/activities/run-script';
import { sha256Hex } from '../src/api/auth';
import { listen } from '../src/api/server';
import { loadConfig, REPO_ROOT } from '../src/shared/config';
import { freePort, startDevServer } from '../src/shared/dev-server';
import type { FromRunner, ScriptJob } from '../src/shared/protocol';
import { createWorkers } from '../src/worker/worker';

const JOBS = Number(process.env.BENCH_JOBS ?? 10);
const SCRIPT = path.join(REPO_ROOT, 'scripts', 'tutorial', '00_sleep.ts');
const POLL_MS = 20;

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { median: at(0.5), p90: at(0.9), min: s[0]!, max: s.at(-1)! };
}

/** Baseline: the script process alone, as runScript starts it. */
function runDirect(): Promise<number> {
  const started = performance.now();
  const job: ScriptJob = {
    jobId: randomUUID(), script: SCRIPT, entrypoint: 'main', params: {}, name: null, queue: 'cpu',
    timeLimitSeconds: 60, computeOnly: true, timeRequest: new Date().toISOString(), data: null,
    rootFile: null, inputFile: null, inputDir: null, outputDir: null, attempt: 1,
  };
  return new Promise((resolve, reject) => {
    const child = fork(RUNNER, [], { execArgv: runnerExecArgv(), detached: true, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.on('message', (m: FromRunner) => {
      if (m.type === 'ready') child.send({ type: 'run', job });
      if (m.type === 'error') reject(new Error(m.error.message));
    });
    child.on('exit', () => resolve(performance.now() - started));
  });
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-bench-'));
  const server = process.env.TEMPORAL_ADDRESS
    ? undefined
    : await startDevServer({ cliPath: ensureTemporalCli().path, port: await freePort(), namespace: 'default', logFile: path.join(tmp, 'temporal.log') });
  const address = process.env.TEMPORAL_ADDRESS ?? server!.address;
  const key = randomUUID();
  const config = loadConfig({
    SHARE_PATH: path.join(tmp, 'share'), TASK_QUEUE_PREFIX: `bench-${randomUUID().slice(0, 8)}-`,
    TEMPORAL_ADDRESS: address, GOD_PASSWORD_SHA256: sha256Hex(key), API_HOST: '127.0.0.1', WORKER_SHUTDOWN_GRACE: '1s',
  });
  const log = pino({ level: 'silent' });
  const workerConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const workers = await createWorkers({ config, connection: workerConnection, namespace: 'default', log });
  const running = workers.run();
  const api = await listen({ config, client, log }, 0);
  const script = fs.readFileSync(SCRIPT);

  async function runJob(): Promise<number> {
    const started = performance.now();
    const form = new FormData();
    form.set('script', new Blob([script]), '00_sleep.ts');
    const res = await fetch(`${api.url}/jobs`, { method: 'POST', body: form, headers: { 'x-api-key': key } });
    const { uuid } = (await res.json()) as { uuid: string };
    for (;;) {
      const d = (await (await fetch(`${api.url}/jobs/${uuid}`, { headers: { 'x-api-key': key } })).json()) as { status: string };
      if (d.status === 'SUCCESS') return performance.now() - started;
      if (d.status === 'FAILURE' || d.status === 'REVOKED') throw new Error(`bench job ${uuid} ended ${d.status}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  await runDirect(); // warm caches (tsx's transform cache) for both sides
  await runJob();
  const direct: number[] = [];
  const scheduled: number[] = [];
  for (let i = 0; i < JOBS; i++) {
    direct.push(await runDirect());
    scheduled.push(await runJob());
  }
  const d = stats(direct);
  const s = stats(scheduled);
  const fmt = (x: { median: number; p90: number; min: number; max: number }) =>
    `median ${x.median.toFixed(0)} ms, p90 ${x.p90.toFixed(0)} ms, min ${x.min.toFixed(0)} ms, max ${x.max.toFixed(0)} ms`;
  console.log(`trivial job (00_sleep.ts, ${JOBS} runs, status polled every ${POLL_MS} ms)`);
  console.log(`  script process alone:       ${fmt(d)}`);
  console.log(`  POST /jobs → SUCCESS:       ${fmt(s)}`);
  console.log(`  ratio (median):             ${(s.median / d.median).toFixed(2)}× — scheduler overhead ${(s.median - d.median).toFixed(0)} ms`);

  await api.close();
  await workers.shutdown();
  await running;
  await workerConnection.close();
  await connection.close();
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
