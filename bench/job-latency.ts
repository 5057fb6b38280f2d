// How long one trivial job takes from POST /jobs to SUCCESS, against the same script run
// directly in a new script process (fork + IPC, no Temporal). The worker keeps script processes
// started ahead of time (RUNNER_POOL_SIZE), so a job on an idle worker can beat the baseline.
//
//   npm run bench            (starts its own in-memory dev server; TEMPORAL_ADDRESS to use one)
//   BENCH_JOBS=20 npm run bench
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RUNNER, runnerExecArgv } from '../src/activities/run-script';
import { REPO_ROOT } from '../src/shared/config';
import type { FromRunner, ScriptJob } from '../src/shared/protocol';
import { fmt, POLL_MS, startBenchStack, stats } from './harness';

const JOBS = Number(process.env.BENCH_JOBS ?? 10);
const SCRIPT = path.join(REPO_ROOT, 'scripts', 'tutorial', '00_sleep.ts');

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
  // The baseline first, alone: the scheduler's pool of ready script processes would compete
  // with it for the CPU.
  await runDirect(); // warms tsx's transform cache
  const direct: number[] = [];
  for (let i = 0; i < JOBS; i++) direct.push(await runDirect());
  const stack = await startBenchStack();
  const script = fs.readFileSync(SCRIPT);
  await stack.runJob('00_sleep.ts', script);
  const scheduled: number[] = [];
  for (let i = 0; i < JOBS; i++) {
    await new Promise((r) => setTimeout(r, 500)); // lets the pool start the next script process
    scheduled.push(await stack.runJob('00_sleep.ts', script));
  }
  const d = stats(direct);
  const s = stats(scheduled);
  console.log(`trivial job (00_sleep.ts, ${JOBS} runs, status polled every ${POLL_MS} ms)`);
  console.log(`  script process alone:       ${fmt(d)}`);
  console.log(`  POST /jobs → SUCCESS:       ${fmt(s)}`);
  console.log(`  ratio (median):             ${(s.median / d.median).toFixed(2)}× — scheduler overhead ${(s.median - d.median).toFixed(0)} ms`);
  await stack.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
