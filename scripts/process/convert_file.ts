import path from 'node:path';
import { loadModel, OUTPUT_FORMATS, saveModel } from 'pixyz-scheduler/geometry';
import { pixyzSchedule, type ProgramContext } from 'pixyz-scheduler';

/**
 * Convert a 3D file to another format.
 *
 * params: { "extension": "glb" } — the output format: glb (default), gltf, obj, stl or ply.
 * inputs: .step/.stp, .iges/.igs, .brep (OpenCascade), .glb, .gltf, .obj (+ .mtl), .stl (ASCII or
 *         binary), .ply; a zip with root_file for a model made of several files.
 * units: glTF is written in metres (a STEP file in millimetres is scaled by 0.001); OBJ and STL
 *        keep the source units.
 * outputs: output.<extension> (with output.bin for gltf, output.mtl for obj)
 * result: { "output": "output.<extension>" }
 */
export const main = pixyzSchedule({ queue: 'cpu' }, async (pc: ProgramContext, params: { extension?: string }) => {
  const extension = String(params.extension ?? 'glb').toLowerCase().replace(/^\./, '');
  if (!(OUTPUT_FORMATS as readonly string[]).includes(extension)) {
    throw new Error(
      `cannot write '${extension}'${extension === 'pxz' ? ' (the proprietary Pixyz format)' : ''}: supported outputs are ${OUTPUT_FORMATS.join(', ')}`,
    );
  }
  const input = pc.getInputFile();
  if (!input) throw new Error('convert_file needs a model: send one as `file`');
  pc.progressSetTotal(3);
  pc.progressNext(`Importing file ${input}`);
  const model = await loadModel(input);
  const output = pc.getOutputDir(`output.${extension}`);
  pc.progressNext(`Exporting file to ${output}`);
  await saveModel(model.document, output, { units: model.units });
  pc.progressNext('done');
  return { output: path.basename(output) };
});
