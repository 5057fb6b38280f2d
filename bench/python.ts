// A trivial Python job beside a trivial TypeScript job, through the same stack in this process:
// POST → SUCCESS latency (interleaved, so both see the same machine), and the machine's CPU per
// job for a run of each. The TypeScript job is the baseline.
//
//   npm run bench:python        (BENCH_JOBS=40)
import { fmt, machineCpuMs, startBenchStack, stats } from './harness';

const JOBS = Number(process.env.BENCH_JOBS ?? 40);
const TS = Buffer.from('export async function main() { return { ok: 1 }; }\n');
const PY = Buffer.from('from pixyz_worker.script import *\n\ndef main(pc, params):\n    return {"ok": 1}\n');

async function main(): Promise<void> {
  const stack = await startBenchStack();
  try {
    for (let i = 0; i < 5; i++) {
      await stack.runJob('warm.ts', TS);
      await stack.runJob('warm.py', PY);
    }
    const ts: number[] = [];
    const py: number[] = [];
    for (let i = 0; i < JOBS; i++) {
      ts.push(await stack.runJob('trivial.ts', TS));
      py.push(await stack.runJob('trivial.py', PY));
    }
    const cpu = async (name: string, script: Buffer) => {
      const before = machineCpuMs();
      for (let i = 0; i < JOBS; i++) await stack.runJob(name, script);
      return (machineCpuMs() - before) / JOBS;
    };
    const tsCpu = await cpu('trivial.ts', TS);
    const pyCpu = await cpu('trivial.py', PY);
    const t = stats(ts);
    const p = stats(py);
    console.log(`trivial job, POST → SUCCESS (${JOBS} each, interleaved)`);
    console.log(`  TypeScript (baseline): ${fmt(t)}`);
    console.log(`  Python:                ${fmt(p)}`);
    console.log(`  ratio (median): ${(p.median / t.median).toFixed(2)}× — ${(p.median - t.median).toFixed(1)} ms more`);
    console.log(`machine CPU per job: TypeScript ${tsCpu.toFixed(0)} ms, Python ${pyCpu.toFixed(0)} ms (ratio ${(pyCpu / tsCpu).toFixed(2)}×)`);
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
