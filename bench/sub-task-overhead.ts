// What one sub-task costs: a job that starts one child and joins it, against the same job that
// does the child's work itself. Also times a 100-child fan-out and join.
//
//   npm run bench:sub-tasks     (BENCH_JOBS=10, BENCH_FANOUT=100)
import { fmt, startBenchStack, stats } from './harness';

const JOBS = Number(process.env.BENCH_JOBS ?? 8);
const FANOUT = Number(process.env.BENCH_FANOUT ?? 100);

const SCRIPT = Buffer.from(`
import { group, pixyzSchedule, type ProgramContext } from 'pixyz-scheduler';
export async function work(_pc: ProgramContext, p: { n: number }) { return { n: p.n * 2 }; }
export const inline = pixyzSchedule({ queue: 'control' }, async (pc: ProgramContext) => work(pc, { n: 1 }));
export const child = pixyzSchedule({ queue: 'control' }, async (pc: ProgramContext) =>
  pc.clone({ entrypoint: 'work' }).execute({ n: 1 }).get());
export const fanout = pixyzSchedule({ queue: 'control' }, async (pc: ProgramContext, p: { count: number }) =>
  (await group(Array.from({ length: p.count }, (_, n) => pc.clone({ entrypoint: 'work', raw: true }).s({ n }))).applyAsync<unknown[]>().get()).length);
`);

async function main(): Promise<void> {
  const stack = await startBenchStack({ CONCURRENT_TASKS: '4' });
  await stack.runJob('bench.ts', SCRIPT, {}, 'child'); // warm up
  const inline: number[] = [];
  const child: number[] = [];
  for (let i = 0; i < JOBS; i++) {
    inline.push(await stack.runJob('bench.ts', SCRIPT, {}, 'inline'));
    child.push(await stack.runJob('bench.ts', SCRIPT, {}, 'child'));
  }
  const a = stats(inline);
  const b = stats(child);
  console.log(`one sub-task (${JOBS} runs each)`);
  console.log(`  job doing the work itself:  ${fmt(a)}`);
  console.log(`  job with one sub-task:      ${fmt(b)}`);
  console.log(`  ratio (median):             ${(b.median / a.median).toFixed(2)}× — one sub-task costs ${(b.median - a.median).toFixed(0)} ms`);
  const fan = await stack.runJob('bench.ts', SCRIPT, { count: FANOUT }, 'fanout');
  console.log(`  ${FANOUT}-child fan-out and join: ${(fan / 1000).toFixed(1)} s (${(fan / FANOUT).toFixed(0)} ms a child, CONCURRENT_TASKS=4)`);
  await stack.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
