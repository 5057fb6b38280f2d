// A chain of three sub-tasks on three queues, one of them custom:
//   wine: convert the uploaded CAD file to export.glb
//   cpu:  prepare it: metadata.json, and preview.glb decimated to a triangle budget
//   gpu:  the four screenshots of the preview
// main waits for the chain; the job's result is the last step's return value.
//
// The `wine` queue: upstream runs a Windows-only converter (a Creo exporter) under wine, and
// only the machines that have it installed serve the `wine` queue. Here the conversion is this
// project's own loader, so the step could run anywhere; what the tutorial shows is the routing.
// A queue of your own must be declared (QUEUES=control,cpu,gpu,wine) and served by some worker
// (`npm run worker -- --queues wine` on the machine with the tool); a job that names it
// otherwise waits until such a worker appears. To run a real external tool there, call it with
// child_process.execFile and check that it wrote its output, as upstream does.
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

export const main = pixyzSchedule({ wait: true, timeout: 3600 }, async (pc: ProgramContext, params: Params) => {
  // Clones of the job's context (raw: each step's return value is the next one's params); the
  // queue of each step is an option of its signature, as upstream's `.set(queue=…)`.
  const convert = pc.clone({ entrypoint: 'convertOnWine', raw: true }).s({ width: 512, height: 512, ...params }, { queue: 'wine' });
  const prepare = pc.clone({ entrypoint: 'prepareModel', raw: true }).s(undefined, { queue: 'cpu' });
  const shoot = pc.clone({ entrypoint: 'screenshot', raw: true }).s(undefined, { queue: 'gpu' });
  return chain(convert, prepare, shoot).applyAsync();
});
