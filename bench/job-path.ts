// The job path against Temporal's floor, in one run on one server (npm run bench):
//   - latency of one trivial job, POST → SUCCESS seen by polling the API, against the floor
//     (one workflow on the control queue running one no-op activity on the script's queue);
//   - submission, POST /jobs returned, against a bare workflow start through the client;
//   - throughput of 200 trivial jobs submitted at once, against 200 floor workflows started at
//     once, with the whole machine's CPU per job (the server, API, worker and script processes);
//   - a 100-child fan-out and join, and what one sub-task costs.
// Default settings throughout (the worker's CONCURRENT_TASKS, RUNNER_* …), as `npm start` runs.
//
//   npm run bench     (BENCH_JOBS=30 latency runs, BENCH_BURST=200, BENCH_FANOUT=100)
import { fork } from 'node:child_process';
import fs from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { takeEvents } from '../src/shared/sse';
import { fmt, machineCpuMs, processCpuMs, startBenchStack, stats, threadCpuMs, threadSplit } from './harness';

const JOBS = Number(process.env.BENCH_JOBS ?? 30);
const BURST = Number(process.env.BENCH_BURST ?? 200);
const FANOUT = Number(process.env.BENCH_FANOUT ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const TRIVIAL = Buffer.from(`export async function main(_pc: unknown, params: { n?: number }) { return { ok: true, n: params.n ?? 0 }; }\n`);
const FANOUT_SCRIPT = Buffer.from(`
import { group, pixyzSchedule, type ProgramContext } from 'pixyz-scheduler';
export async function work(_pc: ProgramContext, p: { n: number }) { return { n: p.n * 2 }; }
export const inline = pixyzSchedule({ queue: 'control' }, async (pc: ProgramContext) => work(pc, { n: 1 }));
export const child = pixyzSchedule({ queue: 'control' }, async (pc: ProgramContext) => pc.clone({ entrypoint: 'work' }).execute({ n: 1 }).get());
// On control, as upstream's waiting scripts; its clones run on cpu.
export const fanout = pixyzSchedule({ queue: 'control' }, async (pc: ProgramContext, p: { count: number }) => {
  const r = await group(Array.from({ length: p.count }, (_, n) => pc.clone({ entrypoint: 'work', raw: true }).s({ n }))).applyAsync<unknown[]>().get();
  return r.length;
});
`);


/** Starts V8's sampling profiler on this process; the returned function stops it and gives the profile. */
async function startProfile(): Promise<() => Promise<object>> {
  const session = new inspector.Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<any>((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
  await post('Profiler.enable');
  await post('Profiler.start');
  return async () => (await post('Profiler.stop')).profile;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

const phase = (what: string) => console.error(`[bench] ${new Date().toISOString().slice(11, 19)} ${what}`);

const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

async function main(): Promise<void> {
  // Default settings; CONCURRENT_TASKS or RUNNER_MAX_JOBS in the environment override them, to compare.
  const overrides = Object.fromEntries(['CONCURRENT_TASKS', 'RUNNER_MAX_JOBS'].flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])));
  const stack = await startBenchStack(overrides, { dbFile: true });
  const headers = { 'x-api-key': stack.key };
  const connection = await Connection.connect({ address: stack.address });
  const client = new Client({ connection });

  // The floor's workers, in this process like ours, on queues of their own.
  const floorControl = stack.taskQueue('floor-control');
  const floorCpu = stack.taskQueue('floor-cpu');
  const nativeConnection = await NativeConnection.connect({ address: stack.address });
  const bundle = await bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'floor', 'workflows.ts'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } });
  const floorWorkers = [
    await Worker.create({ connection: nativeConnection, taskQueue: floorControl, workflowBundle: bundle }),
    await Worker.create({ connection: nativeConnection, taskQueue: floorCpu, activities: { async noop() {} } }),
  ];
  const floorRunning = Promise.all(floorWorkers.map((w) => w.run()));
  let n = 0;
  const startFloor = () =>
    client.workflow.start('floorJob', { taskQueue: floorControl, workflowId: `floor-${process.pid}-${n++}`, args: [{ activityQueue: floorCpu }] });

  const post = async (script: Buffer, name: string, params: unknown = {}, entrypoint = 'main'): Promise<string> => {
    const form = new FormData();
    form.set('script', new Blob([script]), name);
    form.set('params', JSON.stringify(params));
    form.set('config', JSON.stringify({ entrypoint }));
    const res = await fetch(`${stack.url}/jobs`, { method: 'POST', body: form, headers });
    if (res.status !== 200) throw new Error(`POST /jobs: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { uuid: string }).uuid;
  };
  const seen = async (uuid: string, pollMs: number): Promise<void> => {
    for (;;) {
      const d = (await (await fetch(`${stack.url}/jobs/${uuid}`, { headers })).json()) as { status: string; error: string | null };
      if (d.status === 'SUCCESS') return;
      if (d.status === 'FAILURE' || d.status === 'REVOKED') throw new Error(`job ${uuid} ended ${d.status}: ${d.error}`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  };

  /** Opens the job's event stream and reads it to its `end` event. */
  const streamed = async (uuid: string): Promise<void> => {
    const res = await fetch(`${stack.url}/jobs/${uuid}/events`, { headers });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`job ${uuid}: its event stream closed before its end`);
      const { events, rest } = takeEvents(buffer + decoder.decode(value, { stream: true }));
      buffer = rest;
      const end = events.find((e) => e.event === 'end');
      if (end) {
        await reader.cancel();
        const { status } = JSON.parse(end.data!) as { status: string };
        if (status !== 'SUCCESS') throw new Error(`job ${uuid} ended ${status}`);
        return;
      }
    }
  };

  phase('warm-up');
  // Warm-up: both paths once or twice, so that neither pays a first-time cost here.
  for (let i = 0; i < 3; i++) {
    await (await startFloor()).result();
    await seen(await post(TRIVIAL, 'trivial.ts'), 5);
    await streamed(await post(TRIVIAL, 'trivial.ts'));
  }

  phase('latency and submission');
  // 1. Latency and submission, interleaved so that both see the same machine.
  const floorLatency: number[] = [];
  const floorStart: number[] = [];
  const ours: number[] = [];
  const oursStreamed: number[] = [];
  const submit: number[] = [];
  for (let i = 0; i < JOBS; i++) {
    const f0 = performance.now();
    const h = await startFloor();
    floorStart.push(performance.now() - f0);
    await h.result();
    floorLatency.push(performance.now() - f0);
    await new Promise((r) => setTimeout(r, 50));
    const o0 = performance.now();
    const uuid = await post(TRIVIAL, 'trivial.ts', { n: i });
    submit.push(performance.now() - o0);
    await seen(uuid, 5);
    ours.push(performance.now() - o0);
    await new Promise((r) => setTimeout(r, 50));
    const s0 = performance.now();
    await streamed(await post(TRIVIAL, 'trivial.ts', { n: i }));
    oursStreamed.push(performance.now() - s0);
    await new Promise((r) => setTimeout(r, 50));
  }

  // 2. Throughput: a burst of jobs at once, to the last one done. The machine's CPU counts the
  // whole stack; our jobs' HTTP client runs in a process of its own and its CPU is left out.
  const burst = async (startAll: () => Promise<{ waits: (() => Promise<unknown>)[]; clientCpuMs: number }>) => {
    const cpu0 = machineCpuMs();
    const server0 = processCpuMs(stack.serverPid);
    const self0 = process.cpuUsage();
    const threads0 = threadCpuMs();
    let clientCpuMs = 0;
    const { ms } = await timed(async () => {
      const started = await startAll();
      clientCpuMs = started.clientCpuMs;
      await Promise.all(started.waits.map((w) => w()));
    });
    const self = process.cpuUsage(self0);
    const threads = threadSplit(threads0, threadCpuMs(), BURST);
    const all = (machineCpuMs() - cpu0 - clientCpuMs) / BURST;
    const server = (processCpuMs(stack.serverPid) - server0) / BURST;
    const here = (self.user + self.system) / 1000 / BURST;
    const split = `server ${server.toFixed(1)}, this process (API, worker, Temporal client) ${here.toFixed(1)}, the rest (script processes, other) ${(all - server - here).toFixed(1)} ms; HTTP client (left out) ${(clientCpuMs / BURST).toFixed(1)} ms`;
    return { ms, perSecond: (BURST * 1000) / ms, cpuPerJob: all, split, threads };
  };
  // Floor and ours alternate, BENCH_ROUNDS times: this VM's speed drifts by ±10–20 % from one
  // burst to the next, and a round compares two bursts made side by side.
  type Burst = Awaited<ReturnType<typeof burst>>;
  const rounds: { floor: Burst; ours: Burst }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await new Promise((r) => setTimeout(r, 1000));
    phase(`floor burst ${round + 1}/${ROUNDS}`);
    const floor = await burst(async () => {
      const handles = await Promise.all(Array.from({ length: BURST }, () => startFloor()));
      return { waits: handles.map((h) => () => h.result()), clientCpuMs: 0 };
    });
    await new Promise((r) => setTimeout(r, 1000));
    phase(`our burst ${round + 1}/${ROUNDS}`);
    const poster = fork(path.join(__dirname, 'burst-client.mjs'), [], { stdio: 'inherit' });
    await new Promise((r) => setTimeout(r, 500)); // its start is not the burst
    // BENCH_PROFILE=file: a CPU profile of this process during the first of our bursts, for Chrome's DevTools.
    const profiling = process.env.BENCH_PROFILE && round === 0 ? await startProfile() : undefined;
    const ours = await burst(async () => {
      const answer = new Promise<{ uuids: string[]; cpuMs: number }>((resolve) => poster.once('message', resolve));
      poster.send({ url: stack.url, key: stack.key, count: BURST, script: TRIVIAL.toString(), name: 'trivial.ts' });
      const { uuids, cpuMs } = await answer;
      return { waits: uuids.map((uuid) => () => client.workflow.getHandle(uuid).result()), clientCpuMs: cpuMs };
    });
    if (profiling) fs.writeFileSync(process.env.BENCH_PROFILE!, JSON.stringify(await profiling()));
    rounds.push({ floor, ours });
  }
  // The round whose throughput ratio is the median one gives the burst rows.
  const byRatio = [...rounds].sort((a, b) => a.ours.perSecond / a.floor.perSecond - b.ours.perSecond / b.floor.perSecond);
  const { floor: floorBurst, ours: ourBurst } = byRatio[Math.floor(byRatio.length / 2)]!;
  const allRatios = rounds.map((r) => ratio(r.ours.perSecond, r.floor.perSecond)).join(', ');

  // 3. Sub-tasks: one child against the same work inline; a fan-out and join.
  await new Promise((r) => setTimeout(r, 1000));
  const run = async (entrypoint: string, params: unknown = {}) => {
    const t = performance.now();
    await seen(await post(FANOUT_SCRIPT, 'fanout.ts', params, entrypoint), 5);
    return performance.now() - t;
  };
  await run('child');
  const inline: number[] = [];
  const child: number[] = [];
  for (let i = 0; i < Math.min(JOBS, 10); i++) {
    inline.push(await run('inline'));
    child.push(await run('child'));
  }
  const fanCpu0 = machineCpuMs();
  // Waited for through Temporal (a long poll), not by polling the API every 5 ms for seconds:
  // that polling alone costs the 2 cores as much as a good share of the fan-out.
  const fanStart = performance.now();
  await client.workflow.getHandle(await post(FANOUT_SCRIPT, 'fanout.ts', { count: FANOUT }, 'fanout')).result();
  const fan = performance.now() - fanStart;
  const fanCpu = machineCpuMs() - fanCpu0;

  const fl = stats(floorLatency);
  const o = stats(ours);
  const os = stats(oursStreamed);
  const fs0 = stats(floorStart);
  const sb = stats(submit);
  const inl = stats(inline);
  const ch = stats(child);
  console.log(`job path against Temporal's floor (same server, same process; ${JOBS} latency runs, ${ROUNDS} bursts of ${BURST} each, ${FANOUT}-child fan-out)`);
  console.log('');
  console.log('| measure | floor (Temporal alone) | this project | ratio | goal |');
  console.log('|---|---|---|---|---|');
  console.log(`| trivial job, p50 (POST → SUCCESS in its event stream) | ${fl.median.toFixed(1)} ms | ${os.median.toFixed(1)} ms | ${ratio(os.median, fl.median)} | ≤ 1.5× |`);
  console.log(`| trivial job, p90 (event stream) | ${fl.p90.toFixed(1)} ms | ${os.p90.toFixed(1)} ms | ${ratio(os.p90, fl.p90)} | |`);
  console.log(`| trivial job, p50 (POST → SUCCESS read by GET every 5 ms) | ${fl.median.toFixed(1)} ms | ${o.median.toFixed(1)} ms | ${ratio(o.median, fl.median)} | |`);
  console.log(`| trivial job, p90 (GET every 5 ms) | ${fl.p90.toFixed(1)} ms | ${o.p90.toFixed(1)} ms | ${ratio(o.p90, fl.p90)} | |`);
  console.log(`| submission, p50 (POST /jobs vs workflow start) | ${fs0.median.toFixed(1)} ms | ${sb.median.toFixed(1)} ms | ${ratio(sb.median, fs0.median)} | ≤ 2× |`);
  console.log(`| throughput, ${BURST} at once | ${floorBurst.perSecond.toFixed(1)} /s | ${ourBurst.perSecond.toFixed(1)} /s | ${ratio(ourBurst.perSecond, floorBurst.perSecond)} | ≥ 30/s and ≥ 0.7× |`);
  console.log(`| stack CPU per job, in the burst (machine minus HTTP client) | ${floorBurst.cpuPerJob.toFixed(1)} ms | ${ourBurst.cpuPerJob.toFixed(1)} ms | ${ratio(ourBurst.cpuPerJob, floorBurst.cpuPerJob)} | ≤ 50 ms |`);
  console.log(`| one sub-task (job with one child vs same work inline), p50 | ${inl.median.toFixed(1)} ms | ${ch.median.toFixed(1)} ms | +${(ch.median - inl.median).toFixed(1)} ms | |`);
  console.log(`| ${FANOUT}-child fan-out and join | — | ${(fan / 1000).toFixed(2)} s | ${((fan - inl.median) / FANOUT).toFixed(1)} ms a child | ≤ 3 s, ≤ 30 ms a child |`);
  console.log(`| machine CPU of the fan-out | — | ${(fanCpu / 1000).toFixed(2)} s | ${(fanCpu / FANOUT).toFixed(1)} ms a child | |`);
  console.log('');
  console.log(`throughput ratio of each round (floor and ours side by side; the median one above): ${allRatios}`);
  console.log(`CPU per job, floor burst: ${floorBurst.split}`);
  console.log(`CPU per job, our burst:   ${ourBurst.split}`);
  console.log(`  this process by thread, floor: ${floorBurst.threads}`);
  console.log(`  this process by thread, ours:  ${ourBurst.threads}`);
  console.log(`floor latency:  ${fmt(fl)}`);
  console.log(`our latency, event stream: ${fmt(os)}`);
  console.log(`our latency, GET polling:  ${fmt(o)}`);
  console.log(`floor start:    ${fmt(fs0)}`);
  console.log(`POST /jobs:     ${fmt(sb)}`);

  for (const w of floorWorkers) w.shutdown();
  await floorRunning;
  await nativeConnection.close();
  await connection.close();
  await stack.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
