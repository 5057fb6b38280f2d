// A chain that hops from queue to queue — cpu, gpu, cpu, then control — with one small, real
// step on each. Every step receives what the previous one returned, adds its own facts and a
// line to `trail` (which step ran on which queue), and passes it all on: the result shows the
// route the work took.
//
// Two entrypoints, as upstream: `mainWait` waits for the chain and returns its result
// (submit it with config {"entrypoint": "mainWait"}); `main` starts the chain and returns at once.
// Upstream's test chain sleeps 0.1 s on cpu, gpu, cpu, zip and control; its `zip` queue is where
// upstream packs job outputs, which here is internal (the `share` queue, not open to scripts),
// so that hop is left out (06_chain_wine_cpu_gpu routes a step to a queue of your own).
//
//   outputs: export.glb, iso.png, metadata.json
import fs from 'node:fs/promises';
import { computeMetadata, loadModel, renderView, saveModel, UPSTREAM_VIEWS } from 'pixyz-scheduler/geometry';
import { chain, pixyzSchedule, type ProgramContext } from 'pixyz-scheduler';

interface Route {
  trail: { step: string; queue: string }[];
  [fact: string]: unknown;
}

/** The state passed on, with this step's line added to the trail. */
const hop = (pc: ProgramContext, route: Route, facts: Record<string, unknown>): Route => ({
  ...route,
  ...facts,
  trail: [...route.trail, { step: pc.options.entrypoint!, queue: pc.options.queue! }],
});

/** cpu: load the input and export it as GLB. */
export async function exportGlb(pc: ProgramContext, route: Route) {
  const model = await loadModel(pc.getInputFile()!);
  await saveModel(model.document, pc.getOutputDir('export.glb'), { units: model.units });
  return hop(pc, route, { glb: 'export.glb' });
}

/** gpu: render the iso view of export.glb. */
export async function renderIso(pc: ProgramContext, route: Route) {
  const model = await loadModel(pc.getOutputDir('export.glb'));
  await fs.writeFile(pc.getOutputDir('iso.png'), renderView(model.document, UPSTREAM_VIEWS[0]!, 256, 256));
  return hop(pc, route, { thumb: 'iso.png' });
}

/** cpu: describe export.glb in metadata.json. */
export async function writeMetadata(pc: ProgramContext, route: Route) {
  const model = await loadModel(pc.getOutputDir('export.glb'));
  const metadata = computeMetadata(model.document, model);
  await fs.writeFile(pc.getOutputDir('metadata.json'), JSON.stringify(metadata, null, 2));
  return hop(pc, route, { triangles: metadata.polygon_count });
}

/** control: a light last step (no 3D work belongs there): list what the chain wrote. */
export async function summary(pc: ProgramContext, route: Route) {
  const outputs = (await fs.readdir(pc.getOutputDir())).sort();
  return hop(pc, route, { outputs });
}

function route(pc: ProgramContext) {
  // raw: each step's return value is, as is, the next step's params.
  const step = (entrypoint: string, queue: string, params?: Route) => pc.clone({ entrypoint, raw: true }).s(params, { queue });
  return chain(step('exportGlb', 'cpu', { trail: [] }), step('renderIso', 'gpu'), step('writeMetadata', 'cpu'), step('summary', 'control'));
}

export const mainWait = pixyzSchedule({ wait: true, timeout: 600 }, async (pc: ProgramContext) => route(pc).applyAsync());

export const main = pixyzSchedule({ wait: false }, async (pc: ProgramContext) => {
  const started = route(pc).applyAsync();
  return { status: 'ok', chain: started.id };
});
