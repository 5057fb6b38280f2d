import fs from 'node:fs/promises';
import path from 'node:path';
import { computeMetadata, loadModel, modelParams } from 'pixyz-scheduler/geometry';
import { pixyzSchedule, type ProgramContext } from 'pixyz-scheduler';

const params = {
  linear_deflection: { type: 'number', exclusiveMinimum: 0, description: 'CAD inputs: largest distance between mesh and surface, in the file’s unit (default 0.1 % of the model’s size)' },
  angular_deflection: { type: 'number', exclusiveMinimum: 0, maximum: 180, description: 'CAD inputs: largest angle between neighbouring facets, in degrees (default 28.6)' },
} as const;

/**
 * Describe a 3D file: upstream's metadata keys (bounding box diagonal, part, material, vertex,
 * polygon, edge, animation and variant counts; null where the format cannot say), and more:
 * bounding box, units, materials, the node tree with triangle counts, format and size.
 *
 * inputs: .step/.stp, .iges/.igs, .brep, .ifc, .glb, .gltf, .obj (+ .mtl), .fbx, .dae, .3ds, .3mf,
 *         .off, .stl, .ply; a zip with root_file.
 * CAD inputs also take "linear_deflection" (file units) and "angular_deflection" (degrees).
 * outputs: metadata.json (everything, the node tree included)
 * result: { "metadata": { … } } (without the node tree, which can be large)
 */
export const main = pixyzSchedule({ queue: 'cpu', input: 'model', params }, async (pc: ProgramContext, params: Record<string, unknown>) => {
  const { load } = modelParams(params);
  const input = pc.getInputFile();
  if (!input) throw new Error('generate_metadata needs a model: send one as `file`');
  pc.progressSetTotal(3);
  pc.progressNext(`Importing file '${path.basename(input)}'`);
  const model = await loadModel(input, load);
  pc.progressNext('Generating metadata');
  const metadata = computeMetadata(model.document, model);
  pc.progressNext("Export 'metadata.json'");
  await fs.writeFile(pc.getOutputDir('metadata.json'), JSON.stringify(metadata, null, 2));
  const { nodes: _nodes, ...summary } = metadata;
  return { metadata: summary };
});
