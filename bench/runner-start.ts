// A script process's start, as the worker's pool forks it: from its JavaScript build
// (build/runtime) against the same runner from its TypeScript source under tsx, alternating;
// and its first jobs, a CommonJS script (compiled by the worker, as the pool hands it) and an ES
// module (for which tsx's ES-module loader starts in the process on first need).
//
//   npm run bench:runner    (BENCH_RUNS=10 starts of each)
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { scriptRunner, sourceRunner, type ScriptRunner } from '../src/activities/run-script';
import { CompiledScripts, commonJsOf } from '../src/shared/script-code';
import type { FromRunner, ScriptJob } from '../src/shared/protocol';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const BUILT = scriptRunner();
const SOURCE = sourceRunner();
const CLOCK_TICK_MS = 10; // USER_HZ = 100 on Linux

/** The process's own CPU (user + system) so far, from /proc. */
function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
}

/** Resident memory of the process and of its children (esbuild's service, when one runs). */
function rssMb(pid: number): number {
  let kb = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
      const ppid = Number(/^PPid:\s*(\d+)/m.exec(status)?.[1]);
      if (Number(entry) === pid || ppid === pid) kb += Number(/^VmRSS:\s*(\d+)/m.exec(status)?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return kb / 1024;
}

function job(script: string): ScriptJob {
  return { jobId: '11111111-1111-4111-8111-111111111111', script, entrypoint: 'main', params: {}, name: null, queue: 'cpu', timeLimitSeconds: 60, computeOnly: true, timeRequest: new Date().toISOString(), data: null, rootFile: null, inputFile: null, inputDir: null, outputDir: null, attempt: 1 };
}

function messages(child: ChildProcess): (type: FromRunner['type']) => Promise<void> {
  const seen: FromRunner[] = [];
  let wake = () => {};
  child.on('message', (m: FromRunner) => {
    seen.push(m);
    wake();
  });
  return (type) =>
    new Promise((resolve) => {
      const check = () => {
        const i = seen.findIndex((m) => m.type === type);
        if (i < 0) return void (wake = check);
        seen.splice(0, i + 1);
        resolve();
      };
      check();
    });
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-runner-bench-'));
const SCRIPTS = { cjs: path.join(dir, 'trivial.ts'), esm: path.join(dir, 'trivial.mts') };
fs.writeFileSync(SCRIPTS.cjs, `export function main(_pc: unknown, p: { n?: number }): unknown { return { ok: true, n: p.n ?? 0 }; }\n`);
fs.writeFileSync(SCRIPTS.esm, `export function main(_pc: unknown, p: { n?: number }): unknown { return { ok: true, n: p.n ?? 0 }; }\n`);

interface Start {
  readyMs: number;
  cpuMs: number;
  rssMb: number;
  /** Wall time of the first and second jobs, ms. */
  jobs: number[];
}

async function start(runner: ScriptRunner, script: string, code: string | null | undefined): Promise<Start> {
  const t0 = performance.now();
  const child = fork(runner.module, [], { execArgv: runner.execArgv, cwd: os.tmpdir(), env: { ...process.env, ...runner.env }, stdio: ['ignore', 'ignore', 'ignore', 'ipc'], detached: true });
  const next = messages(child);
  await next('ready');
  const readyMs = performance.now() - t0;
  const cpu = cpuMs(child.pid!);
  const rss = rssMb(child.pid!);
  const jobs: number[] = [];
  for (let i = 0; i < 2; i++) {
    const t = performance.now();
    child.send({ type: 'run', job: job(script), ...(code === undefined ? {} : { code }) });
    await next('result');
    jobs.push(performance.now() - t);
    await next('idle');
  }
  process.kill(-child.pid!, 'SIGKILL');
  return { readyMs, cpuMs: cpu, rssMb: rss, jobs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const code = await commonJsOf(SCRIPTS.cjs, new CompiledScripts());
  const results: Record<string, Start[]> = {};
  const variants: [string, ScriptRunner, string, string | null | undefined][] = [
    ['TypeScript source under tsx (before), CommonJS script', SOURCE, SCRIPTS.cjs, code],
    ['JavaScript build, CommonJS script compiled by the worker', BUILT, SCRIPTS.cjs, code],
    ['JavaScript build, ES-module script', BUILT, SCRIPTS.esm, null],
  ];
  for (let i = 0; i < RUNS; i++) for (const [name, runner, script, c] of variants) (results[name] ??= []).push(await start(runner, script, c));
  console.log(`script process start (${RUNS} starts of each, alternating; medians)\n`);
  console.log('| runner | ready | CPU to ready | RSS when ready (with children) | first job | second job |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, runs] of Object.entries(results)) {
    const m = (f: (s: Start) => number) => median(runs.map(f));
    console.log(`| ${name} | ${m((s) => s.readyMs).toFixed(0)} ms | ${m((s) => s.cpuMs).toFixed(0)} ms | ${m((s) => s.rssMb).toFixed(0)} MiB | ${m((s) => s.jobs[0]!).toFixed(1)} ms | ${m((s) => s.jobs[1]!).toFixed(1)} ms |`);
  }
  const [before, after] = Object.values(results) as [Start[], Start[]];
  console.log(`\nbuild against source: ready ${(median(after.map((s) => s.readyMs)) / median(before.map((s) => s.readyMs))).toFixed(2)}×, CPU ${(median(after.map((s) => s.cpuMs)) / median(before.map((s) => s.cpuMs))).toFixed(2)}×`);
  fs.rmSync(dir, { recursive: true, force: true });
}

void main();
