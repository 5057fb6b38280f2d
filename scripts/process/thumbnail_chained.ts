import fs from 'node:fs/promises';
import path from 'node:path';
import { computeMetadata, decimate, loadModel, modelParams, saveModel, UPSTREAM_VIEWS, writeThumbnails } from 'pixyz-scheduler/geometry';
import { chain, pixyzSchedule, type ProgramContext } from 'pixyz-scheduler';

interface Params extends Record<string, unknown> {
  width?: number;
  height?: number;
  previewTriangles?: number;
}

const params = {
  width: { type: 'integer', minimum: 16, maximum: 4096, default: 512, description: 'thumbnail width, in pixels' },
  height: { type: 'integer', minimum: 16, maximum: 4096, default: 512, description: 'thumbnail height, in pixels' },
  previewTriangles: { type: 'integer', exclusiveMinimum: 0, default: 500000, description: 'triangle budget of preview.glb' },
  linear_deflection: { type: 'number', exclusiveMinimum: 0, description: 'CAD inputs: largest distance between mesh and surface, in the file’s unit (default 0.1 % of the model’s size)' },
  angular_deflection: { type: 'number', exclusiveMinimum: 0, maximum: 180, description: 'CAD inputs: largest angle between neighbouring facets, in degrees (default 28.6)' },
} as const;

/**
 * Thumbnails as a chain of two sub-tasks, as upstream: first, on cpu, load the model and write
 * metadata.json, preview.glb and export.glb; then, on gpu, render iso/x/y/z.png from the
 * preview. The job waits for the chain; every file lands in its outputs/.
 *
 * params: { "width": 512, "height": 512, "previewTriangles": 500000 }
 * result: the second step's: the params merged with the first step's result, plus "thumbs".
 */
export const main = pixyzSchedule({ queue: 'control', wait: true, timeout: 3600, input: 'model', params }, async (pc: ProgramContext, params: Params) => {
  modelParams(params); // bad options fail here, not in a sub-task
  const first = pc.clone({ entrypoint: 'loadFileAndMetadata', raw: true }).signature({ width: 512, height: 512, ...params }, { queue: 'cpu' });
  const second = pc.clone({ entrypoint: 'screenshot', raw: true }).signature(undefined, { queue: 'gpu' });
  return chain(first, second).applyAsync();
});

/** Step one (cpu): the model's facts and a light copy of it. */
export async function loadFileAndMetadata(pc: ProgramContext, params: Params) {
  const started = performance.now();
  const input = pc.getInputFile();
  if (!input) throw new Error('thumbnail_chained needs a model: send one as `file`');
  pc.progressSetTotal(4);
  pc.progressNext(`Importing file ${path.basename(input)}`);
  const model = await loadModel(input, modelParams(params).load);
  pc.progressNext('Generating metadata');
  const metadata = computeMetadata(model.document, model);
  await fs.writeFile(pc.getOutputDir('metadata.json'), JSON.stringify(metadata, null, 2));
  pc.progressNext('Export export.glb');
  await saveModel(model.document, pc.getOutputDir('export.glb'), { units: model.units });
  pc.progressNext('Exporting model preview to preview.glb');
  await decimate(model.document, modelParams(params).previewTriangles);
  await saveModel(model.document, pc.getOutputDir('preview.glb'), { units: model.units });
  const { nodes: _nodes, ...summary } = metadata;
  return {
    ...params,
    preview: { file: 'preview.glb', size: `${params.width}x${params.height}` },
    metadata: summary,
    glb: 'export.glb',
    process_duration: (performance.now() - started) / 1000,
  };
}

/** Step two (gpu): the four views of the preview. */
export async function screenshot(pc: ProgramContext, params: Params & Record<string, unknown>) {
  const width = Math.round(params.width ?? 512);
  const height = Math.round(params.height ?? 512);
  const preview = await loadModel(pc.getOutputDir('preview.glb'));
  pc.progressSetTotal(UPSTREAM_VIEWS.length);
  const thumbs = await writeThumbnails(preview.document, pc.getOutputDir(), width, height, (view) => pc.progressNext(`Screenshotting ${view.name}`));
  return { ...params, thumbs };
}
