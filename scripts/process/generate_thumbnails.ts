import fs from 'node:fs/promises';
import path from 'node:path';
import { computeMetadata, decimate, loadModel, modelParams, saveModel, UPSTREAM_VIEWS, writeThumbnails } from 'pixyz-scheduler/geometry';
import { pixyzSchedule, type ProgramContext } from 'pixyz-scheduler';

interface Params extends Record<string, unknown> {
  width?: number;
  height?: number;
  /** Triangle budget of preview.glb (upstream: 500000). */
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
 * Render thumbnails of a 3D file: iso, x, y and z views (upstream's camera directions), shaded
 * with the materials' colours and base colour textures on a transparent background, by a deterministic software renderer
 * (no GPU needed); plus a decimated preview.glb and metadata.json.
 *
 * params: { "width": 512, "height": 512, "previewTriangles": 500000 }
 * inputs: .step/.stp, .iges/.igs, .brep, .ifc, .glb, .gltf, .obj (+ .mtl), .fbx, .dae, .3ds, .3mf,
 *         .off, .stl, .ply; a zip with root_file.
 * CAD inputs also take "linear_deflection" (file units) and "angular_deflection" (degrees).
 * outputs: iso.png, x.png, y.png, z.png, preview.glb, metadata.json
 * result: { "thumbs": { "iso": "iso.png", … }, "preview": { "file": "preview.glb", "size": "WxH" },
 *           "metadata": { … }, "process_duration": <seconds> }
 */
export const main = pixyzSchedule({ queue: 'gpu', input: 'model', params }, async (pc: ProgramContext, params: Params) => {
  const started = performance.now();
  const width = Math.round(params.width ?? 512);
  const height = Math.round(params.height ?? 512);
  if (!(width >= 16 && width <= 4096 && height >= 16 && height <= 4096)) {
    throw new Error(`width and height must be between 16 and 4096 pixels, not ${JSON.stringify(params.width ?? 512)}×${JSON.stringify(params.height ?? 512)}`);
  }
  const { load, previewTriangles } = modelParams(params);
  const input = pc.getInputFile();
  if (!input) throw new Error('generate_thumbnails needs a model: send one as `file`');
  pc.progressSetTotal(4 + UPSTREAM_VIEWS.length);
  pc.progressNext(`Importing file ${path.basename(input)}`);
  const model = await loadModel(input, load);
  const thumbs = await writeThumbnails(model.document, pc.getOutputDir(), width, height, (view) => pc.progressNext(`Screenshotting ${view.name}`));
  pc.progressNext('Exporting model preview to preview.glb');
  const metadata = computeMetadata(model.document, model); // before decimation: the model's own facts
  await decimate(model.document, previewTriangles);
  await saveModel(model.document, pc.getOutputDir('preview.glb'), { units: model.units });
  pc.progressNext('Generating metadata');
  pc.progressNext("Export 'metadata.json'");
  await fs.writeFile(pc.getOutputDir('metadata.json'), JSON.stringify(metadata, null, 2));
  const { nodes: _nodes, ...summary } = metadata;
  return {
    thumbs,
    preview: { file: 'preview.glb', size: `${width}x${height}` },
    metadata: summary,
    process_duration: (performance.now() - started) / 1000,
  };
});
