// Load: 1,000 trivial jobs submitted at once through the HTTP API (from a process of their own),
// against 1,000 floor workflows started at once on the same server (Temporal alone, see
// bench/README.md). Prints throughput and latency (from the burst's start to each job's end) side
// by side, and checks that every job ended SUCCESS, none lost and none twice: as many distinct ids
// as posts, as many completed pixyzJob workflows and job directories as ids.
//
//   npm run bench:load      (BENCH_LOAD=1000)
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { isJobId } from '../src/shared/share';
import { fmt, startBenchStack, stats } from './harness';

const COUNT = Number(process.env.BENCH_LOAD ?? 1000);
const TRIVIAL = `export async function main(_pc: unknown, params: { n?: number }) { return { ok: true, n: params.n ?? 0 }; }\n`;

async function main(): Promise<void> {
  const stack = await startBenchStack({}, { dbFile: true });
  const connection = await Connection.connect({ address: stack.address });
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address: stack.address });
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };
  const floorControl = stack.taskQueue('floor-control');
  const floorCpu = stack.taskQueue('floor-cpu');
  const workers = [
    await Worker.create({ connection: native, taskQueue: floorControl, workflowBundle: await bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'floor', 'workflows.ts'), logger: quiet }) }),
    await Worker.create({ connection: native, taskQueue: floorCpu, activities: { async noop() {} } }),
  ];
  const floorRunning = Promise.all(workers.map((w) => w.run()));

  // The floor: COUNT workflows started at once, each waited for.
  let n = 0;
  const floorT0 = performance.now();
  const floorEnds = await Promise.all(
    Array.from({ length: COUNT }, async () => {
      const h = await client.workflow.start('floorJob', { taskQueue: floorControl, workflowId: `load-floor-${process.pid}-${n++}`, args: [{ activityQueue: floorCpu }] });
      await h.result();
      return performance.now() - floorT0;
    }),
  );
  const floorSeconds = (performance.now() - floorT0) / 1000;
  await new Promise((r) => setTimeout(r, 2000));

  // Ours: COUNT posts at once from another process.
  const poster = fork(path.join(__dirname, 'burst-client.mjs'), [], { stdio: 'inherit' });
  await new Promise((r) => setTimeout(r, 500));
  const t0 = performance.now();
  const answer = new Promise<{ uuids: string[] }>((resolve) => poster.once('message', resolve));
  poster.send({ url: stack.url, key: stack.key, count: COUNT, script: TRIVIAL, name: 'trivial.ts' });
  const { uuids } = await answer;
  const ends = await Promise.all(
    uuids.map(async (uuid) => {
      const out = (await client.workflow.getHandle(uuid).result()) as { result: { ok: boolean } };
      if (!out.result.ok) throw new Error(`job ${uuid} answered ${JSON.stringify(out)}`);
      return performance.now() - t0;
    }),
  );
  const seconds = (performance.now() - t0) / 1000;

  // None lost, none twice.
  const distinct = new Set(uuids).size;
  const completed = (await client.workflow.count(`WorkflowType = "pixyzJob" AND TaskQueue = "${stack.taskQueue('control')}" AND ExecutionStatus = "Completed"`)).count;
  const directories = fs.readdirSync(stack.sharePath).filter(isJobId).length;

  const f = stats(floorEnds);
  const o = stats(ends);
  const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)]!;
  console.log(`load: ${COUNT} at once, same server, same process (floor: Temporal alone; ours: POST /jobs of a trivial script from another process)`);
  console.log('');
  console.log('| measure | floor | ours | ratio |');
  console.log('|---|---|---|---|');
  console.log(`| throughput | ${(COUNT / floorSeconds).toFixed(1)} /s | ${(COUNT / seconds).toFixed(1)} /s | ${(floorSeconds / seconds).toFixed(2)}× |`);
  console.log(`| latency p50 (burst start → job end) | ${(f.median / 1000).toFixed(2)} s | ${(o.median / 1000).toFixed(2)} s | ${(o.median / f.median).toFixed(2)}× |`);
  console.log(`| latency p99 | ${(p99(floorEnds) / 1000).toFixed(2)} s | ${(p99(ends) / 1000).toFixed(2)} s | ${(p99(ends) / p99(floorEnds)).toFixed(2)}× |`);
  console.log('');
  console.log(`posted ${COUNT}, distinct ids ${distinct}, ended SUCCESS ${ends.length}, completed pixyzJob workflows ${completed}, job directories ${directories}`);
  console.log(`floor latency: ${fmt(f)}`);
  console.log(`our latency:   ${fmt(o)}`);
  const ok = distinct === COUNT && ends.length === COUNT && completed === COUNT && directories === COUNT;
  for (const w of workers) w.shutdown();
  await floorRunning;
  await native.close();
  await connection.close();
  await stack.stop();
  if (!ok) {
    console.error('jobs lost or duplicated');
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
