// The 3D processes through the scheduler against the same library calls in a bare Node process,
// on a mid-size CAD assembly and a 100k-triangle mesh; with the bare process's peak RSS.
//
//   npm run bench:processes
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { addMesh, saveModel, createDocument } from '../src/geometry';
import { REPO_ROOT } from '../src/shared/config';
import { startBenchStack } from './harness';

const CAD = path.join(REPO_ROOT, 'node_modules', 'occt-import-js', 'test', 'testfiles', 'cax-if', 'as1_pe_203.stp');

/** A wavy grid of about `triangles` triangles, as GLB. */
async function meshFile(dir: string, triangles: number): Promise<string> {
  const n = Math.ceil(Math.sqrt(triangles / 2)) + 1;
  const positions = new Float32Array(n * n * 3);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) positions.set([x / n, y / n, Math.sin(x / 9) * Math.cos(y / 7) * 0.05], (y * n + x) * 3);
  const indices: number[] = [];
  for (let y = 0; y < n - 1; y++) for (let x = 0; x < n - 1; x++) {
    const i = y * n + x;
    indices.push(i, i + 1, i + n, i + 1, i + n + 1, i + n);
  }
  const doc = createDocument();
  addMesh(doc, { name: 'grid', positions, indices: Uint32Array.from(indices) });
  const file = path.join(dir, 'mesh-100k.glb');
  await saveModel(doc, file);
  return file;
}

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
  const inputs = [
    { label: 'CAD: CAx-IF as1_pe_203.stp', file: CAD },
    { label: 'mesh: 100k-triangle GLB', file: await meshFile(dir, 100_000) },
  ];
  const stack = await startBenchStack();
  const rows: string[] = [];
  for (const { label, file } of inputs) {
    for (const processName of Object.keys(BARE)) {
      const out = fs.mkdtempSync(path.join(dir, 'out-'));
      const direct = bare(processName, file, out);
      const scheduled = (await stack.runProcess(processName, file)) / 1000;
      rows.push(
        `| ${label} | ${processName} | ${direct.seconds.toFixed(2)} s | ${scheduled.toFixed(2)} s | ${(scheduled / direct.seconds).toFixed(2)}× | +${(scheduled - direct.seconds).toFixed(2)} s | ${direct.rssMb.toFixed(0)} MiB |`,
      );
    }
  }
  console.log('| input | process | bare Node | through the scheduler | ratio | overhead | peak RSS (bare) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  await stack.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
