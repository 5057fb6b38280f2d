// The wine → cpu → gpu chain of 06_chain_wine_cpu_gpu, started and left to run: main returns
// the chain's id at once; the job ends when the chain has, and the chain's own result (the last
// step's return value) is read with that id (`await pc.AsyncResult(id, 'canvas').get()`).
//   wine: convert the uploaded CAD file to export.glb
//   cpu:  prepare it: metadata.json, and preview.glb decimated to a triangle budget
//   gpu:  the four screenshots of the preview
//
// The `wine` queue stands for upstream's Windows-only converter run under wine on the machines
// that have it: a queue of your own, declared in QUEUES=control,cpu,gpu,wine and served by a
// worker started with `--queues wine`. Here the step converts with this project's own loader.
//
//   params: { "width": 512, "height": 512, "previewTriangles": 500000 }
//   outputs: export.glb, preview.glb, metadata.json, iso.png, x.png, y.png, z.png
import fs from 'node:fs/promises';
import path from 'node:path';
import { computeMetadata, decimate, loadModel, saveModel, writeThumbnails } from 'pixyz-scheduler/geometry';
import { chain, pixyzSchedule, type ProgramContext } from 'pixyz-scheduler';

interface Params {
  width?: number;
  height?: number;
  previewTriangles?: number;
}

/** Step 1, on wine: the conversion only that queue's machines can do (see above). */
export async function convertOnWine(pc: ProgramContext, params: Params) {
  const input = pc.getInputFile();
  if (!input) throw new Error('send a CAD file to convert');
  pc.progressNext(`Converting ${path.basename(input)} on queue ${pc.options.queue}`);
  const model = await loadModel(input);
  await saveModel(model.document, pc.getOutputDir('export.glb'), { units: model.units });
  return { ...params, filepath: 'export.glb' };
}

/** Step 2, on cpu: describe the model and decimate it into a light preview. */
export async function prepareModel(pc: ProgramContext, params: Params & { filepath: string }) {
  const started = performance.now();
  pc.progressSetTotal(3);
  pc.progressNext(`Importing ${params.filepath} on queue ${pc.options.queue}`);
  const model = await loadModel(pc.getOutputDir(params.filepath));
  pc.progressNext('Generating metadata');
  const { nodes: _tree, ...metadata } = computeMetadata(model.document, model);
  await fs.writeFile(pc.getOutputDir('metadata.json'), JSON.stringify(metadata, null, 2));
  pc.progressNext('DecimateTarget and export preview.glb');
  const triangles = await decimate(model.document, params.previewTriangles ?? 500_000);
  await saveModel(model.document, pc.getOutputDir('preview.glb'), { units: model.units });
  return {
    ...params,
    preview: { file: 'preview.glb', size: `${params.width}x${params.height}`, triangles },
    metadata,
    process_duration: (performance.now() - started) / 1000,
  };
}

/** Step 3, on gpu: the four screenshots of the preview. */
export async function screenshot(pc: ProgramContext, params: Params & { preview: { file: string } }) {
  pc.progressSetTotal(5);
  pc.progressNext(`[screenshot] loading ${params.preview.file} on queue ${pc.options.queue}`);
  const model = await loadModel(pc.getOutputDir(params.preview.file));
  const thumbs = await writeThumbnails(model.document, pc.getOutputDir(), params.width ?? 512, params.height ?? 512, (view) =>
    pc.progressNext(`Screenshotting ${view.name}`),
  );
  return { ...params, thumbs };
}

// No `wait`: main returns as soon as the chain is started.
export const main = pixyzSchedule({ wait: false }, async (pc: ProgramContext, params: Params) => {
  const convert = pc.clone({ entrypoint: 'convertOnWine', raw: true }).s({ width: 512, height: 512, ...params }, { queue: 'wine' });
  const prepare = pc.clone({ entrypoint: 'prepareModel', raw: true }).s(undefined, { queue: 'cpu' });
  const shoot = pc.clone({ entrypoint: 'screenshot', raw: true }).s(undefined, { queue: 'gpu' });
  const started = chain(convert, prepare, shoot).applyAsync();
  console.log(`chain ${started.id} started`);
  return { chain: started.id };
});
