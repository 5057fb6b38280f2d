// The 3D processes through the scheduler against the same library calls in a bare Node process,
// on a mid-size CAD model and a 100k-triangle mesh; with the peak RSS of the bare process and of
// the job's script process (from the last line of its log).
//
//   npm run bench:processes
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import zlib from 'node:zlib';
import { saveModel } from '../src/geometry';
import { REPO_ROOT } from '../src/shared/config';
import { wavyGrid } from '../test/helpers/models';
import { startBenchStack } from './harness';

/** Runs of each measurement (BENCH_RUNS); the table shows medians, and the largest peak RSS. */
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** 24 machined plates, 2,208 B-rep faces, ~270k triangles once tessellated (bench/fixtures/make-plates.py). */
const CAD_GZ = path.join(__dirname, 'fixtures', 'plates.step.gz');

/** What each process does, as plain library calls (run in a fresh Node process). */
const BARE: Record<string, string> = {
  convert_file: `const m = await g.loadModel(input); await g.saveModel(m.document, out + '/output.glb', { units: m.units });`,
  generate_metadata: `const m = await g.loadModel(input); fs.writeFileSync(out + '/metadata.json', JSON.stringify(g.computeMetadata(m.document, m)));`,
  generate_thumbnails: `const m = await g.loadModel(input); for (const v of g.UPSTREAM_VIEWS) fs.writeFileSync(out + '/' + v.name + '.png', g.renderView(m.document, v, 512, 512)); const meta = g.computeMetadata(m.document, m); await g.decimate(m.document); await g.saveModel(m.document, out + '/preview.glb', { units: m.units }); fs.writeFileSync(out + '/metadata.json', JSON.stringify(meta));`,
};

function bare(processName: string, input: string, out: string): { seconds: number; rssMb: number } {
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  const code = `
    const fs = require('node:fs');
    const g = require(${JSON.stringify(path.join(REPO_ROOT, 'src', 'geometry', 'index.ts'))});
    (async () => {
      const input = ${JSON.stringify(input)}; const out = ${JSON.stringify(out)};
      const t = performance.now();
      ${BARE[processName]}
      console.log(JSON.stringify({ seconds: (performance.now() - t) / 1000, rssMb: process.resourceUsage().maxRSS / 1024 }));
    })();`;
  const res = spawnSync(process.execPath, ['--import', tsx, '-e', code], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(res.stderr);
  return JSON.parse(res.stdout.trim().split('\n').at(-1)!);
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-bench-3d-'));
  const cad = path.join(dir, 'plates.step');
  fs.writeFileSync(cad, zlib.gunzipSync(fs.readFileSync(CAD_GZ)));
  const mesh = path.join(dir, 'mesh-100k.glb');
  await saveModel(wavyGrid(100_000), mesh);
  const inputs = [
    { label: 'CAD: plates.step (2,208 faces)', file: cad },
    { label: 'mesh: 100k-triangle GLB', file: mesh },
  ];
  const stack = await startBenchStack();
  await stack.runJob('warm-up.ts', Buffer.from('export const main = () => 1;\n')); // a running scheduler, not a cold one
  const rows: string[] = [];
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const { label, file } of inputs) {
    for (const processName of Object.keys(BARE)) {
      // RUNS of each, alternating, medians: one run of a 20 s job varies by a few seconds here.
      const bareRuns: { seconds: number; rssMb: number }[] = [];
      const scheduledRuns: { ms: number; log: string }[] = [];
      for (let i = 0; i < RUNS; i++) {
        bareRuns.push(bare(processName, file, fs.mkdtempSync(path.join(dir, 'out-'))));
        scheduledRuns.push(await stack.runProcess(processName, file));
      }
      const direct = { seconds: median(bareRuns.map((r) => r.seconds)), rssMb: Math.max(...bareRuns.map((r) => r.rssMb)) };
      const scheduled = median(scheduledRuns.map((r) => r.ms)) / 1000;
      const rss = Math.max(...scheduledRuns.map((r) => Number(/peak RSS (\d+) MiB/.exec(r.log)?.[1] ?? NaN)));
      rows.push(
        `| ${label} | ${processName} | ${direct.seconds.toFixed(2)} s | ${scheduled.toFixed(2)} s | ${(scheduled / direct.seconds).toFixed(2)}× | +${(scheduled - direct.seconds).toFixed(2)} s | ${direct.rssMb.toFixed(0)} MiB | ${rss} MiB |`,
      );
      console.error(rows.at(-1));
    }
  }
  console.log('| input | process | bare Node | through the scheduler | ratio | overhead | peak RSS, bare | peak RSS, script process |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  await stack.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
