import path from 'node:path';
import { loadModel, modelParams, optimize, OUTPUT_FORMATS, saveModel } from 'pixyz-scheduler/geometry';
import { pixyzSchedule, type ProgramContext } from 'pixyz-scheduler';

const params = {
  extension: { type: 'string', enum: ['glb', 'gltf', 'obj', 'stl', 'ply'], default: 'glb', description: 'the output format' },
  compression: { type: 'string', enum: ['draco', 'meshopt'], description: 'mesh compression of glb and gltf outputs' },
  weld: { type: 'boolean', default: false, description: 'merge identical vertices' },
  simplify: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'keep about this fraction of the triangles' },
  linear_deflection: { type: 'number', exclusiveMinimum: 0, description: 'CAD inputs: largest distance between mesh and surface, in the file’s unit (default 0.1 % of the model’s size)' },
  angular_deflection: { type: 'number', exclusiveMinimum: 0, maximum: 180, description: 'CAD inputs: largest angle between neighbouring facets, in degrees (default 28.6)' },
} as const;

/**
 * Convert a 3D file to another format.
 *
 * params: { "extension": "glb" } — the output format: glb (default), gltf, obj, stl or ply.
 *   Optional: "compression": "draco" | "meshopt" (glb and gltf outputs); "weld": true (merge
 *   identical vertices); "simplify": 0.5 (keep about that fraction of the triangles);
 *   CAD inputs: "linear_deflection" (largest distance between mesh and surface, in the file's
 *   unit; default 0.1% of the model's size), "angular_deflection" (degrees; default 28.6).
 * inputs: .step/.stp, .iges/.igs, .brep (OpenCascade), .ifc, .glb, .gltf, .obj (+ .mtl), .fbx,
 *         .dae, .3ds, .3mf, .off, .stl (ASCII or binary), .ply; a zip with root_file for a model
 *         made of several files.
 * units: glTF is written in metres (a STEP file in millimetres is scaled by 0.001); OBJ, STL and
 *        PLY keep the source units.
 * outputs: output.<extension> (with output.bin and the textures for gltf; output.mtl and
 *          output_texture<n>.png|jpg for obj)
 * result: { "output": "output.<extension>" }
 */
export const main = pixyzSchedule({ queue: 'cpu', input: 'model', params }, async (pc: ProgramContext, params: Record<string, unknown>) => {
  const extension = String(params.extension ?? 'glb').toLowerCase().replace(/^\./, '');
  if (!(OUTPUT_FORMATS as readonly string[]).includes(extension)) {
    throw new Error(
      `cannot write '${extension}'${extension === 'pxz' ? ' (the proprietary Pixyz format)' : ''}: supported outputs are ${OUTPUT_FORMATS.join(', ')}`,
    );
  }
  const options = modelParams(params);
  if (options.compression && extension !== 'glb' && extension !== 'gltf') throw new Error(`compression applies to glb and gltf outputs, not ${extension}`);
  const input = pc.getInputFile();
  if (!input) throw new Error('convert_file needs a model: send one as `file`');
  pc.progressSetTotal(3);
  // Paths in the job's directory (inputs/…, outputs/…): a step never shows where the server keeps it.
  const shown = (file: string) => path.relative(path.dirname(pc.getOutputDir()), file).split(path.sep).join('/');
  pc.progressNext(`Importing file ${shown(input)}`);
  const model = await loadModel(input, options.load);
  await optimize(model.document, options.optimize);
  const output = pc.getOutputDir(`output.${extension}`);
  pc.progressNext(`Exporting file to ${shown(output)}`);
  await saveModel(model.document, output, { units: model.units, compression: options.compression });
  pc.progressNext('done');
  return { output: path.basename(output) };
});
