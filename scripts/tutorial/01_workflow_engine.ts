// A whole 3D workflow in one job on the gpu queue: import a model, take four screenshots (iso,
// x, y, z), decimate it into a light preview written as output.glb, and describe it. Upstream
// repairs and tessellates with the Pixyz SDK and renders on a GPU; here a STEP file is
// tessellated when it is loaded (OpenCascade) and the screenshots come from a software renderer,
// so the "gpu" queue is only a name: any worker that serves it can run this.
//
//   params: { "width": 512, "height": 512, "previewTriangles": 500000 }
//   outputs: iso.png, x.png, y.png, z.png, output.glb
import path from 'node:path';
import { computeMetadata, decimate, loadModel, saveModel, writeThumbnails } from 'pixyz-scheduler/geometry';
import { pixyzSchedule, type ProgramContext } from 'pixyz-scheduler';

interface Params {
  width?: number;
  height?: number;
  /** The preview's triangle budget (upstream: 500000). */
  previewTriangles?: number;
}

export const main = pixyzSchedule({ queue: 'gpu' }, async (pc: ProgramContext, params: Params) => {
  const started = performance.now();
  const width = params.width ?? 512;
  const height = params.height ?? 512;
  const input = pc.getInputFile();
  if (!input) throw new Error('send a model file');
  pc.progressSetTotal(8);

  pc.progressNext(`Importing file ${path.basename(input)}`);
  const model = await loadModel(input);
  // The model's own facts, before decimation (upstream's metadata keys, plus bbox, units, …).
  const { nodes: _tree, ...metadata } = computeMetadata(model.document, model);

  // One step per screenshot: iso.png, x.png, y.png and z.png in outputs/.
  const thumbs = await writeThumbnails(model.document, pc.getOutputDir(), width, height, (view) => pc.progressNext(`Screenshotting ${view.name}`));

  pc.progressNext('DecimateTarget');
  const triangles = await decimate(model.document, params.previewTriangles ?? 500_000);

  pc.progressNext('Export To GLB');
  await saveModel(model.document, pc.getOutputDir('output.glb'), { units: model.units });

  pc.progressNext('Generating metadata');
  return {
    thumbs,
    preview: { file: 'output.glb', size: `${width}x${height}`, triangles },
    metadata,
    process_duration: (performance.now() - started) / 1000,
  };
});
