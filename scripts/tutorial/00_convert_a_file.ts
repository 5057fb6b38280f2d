// Convert a file from one format to another: load the uploaded model, write it to the job's
// outputs/ as output.<extension>, and return the file's name (download it with
// GET /jobs/{id}/outputs/output.glb). Upstream writes the proprietary .pxz by default; here the
// default is .glb (glTF binary, in metres); gltf, obj, stl, ply… work too (OUTPUT_FORMATS).
//
//   params: { "extension": "glb" }
//   input:  any model loadModel reads (INPUT_FORMATS: STEP, IGES, glTF, OBJ, STL, PLY…), or a zip
import path from 'node:path';
import { loadModel, saveModel } from 'pixyz-scheduler/geometry';
import { pixyzSchedule, type ProgramContext } from 'pixyz-scheduler';

export const main = pixyzSchedule({ queue: 'cpu' }, async (pc: ProgramContext, params: { extension?: string }) => {
  // (optional) The number of steps: the API shows the job's percentage as they go.
  pc.progressSetTotal(3);
  const extension = (params.extension ?? 'glb').toLowerCase();

  // The uploaded file (or the model inside an uploaded zip).
  const input = pc.getInputFile();
  if (!input) throw new Error('send a model file to convert');

  pc.progressNext(`Importing file ${path.basename(input)}`);
  const model = await loadModel(input); // a STEP file is tessellated here

  // Files written to pc.getOutputDir() are what the user downloads.
  const output = pc.getOutputDir(`output.${extension}`);
  pc.progressNext(`Exporting file to ${path.basename(output)}`);
  await saveModel(model.document, output, { units: model.units }); // an unknown extension fails, naming the supported ones

  pc.progressNext('done');
  // What main returns is the job's result (JSON).
  return { output: `output.${extension}` };
});
