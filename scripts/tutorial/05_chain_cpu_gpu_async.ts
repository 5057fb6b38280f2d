// The chain of 05_chain_cpu_gpu_sync (cpu: load and export export.glb, then gpu: screenshots),
// started and left to run: main returns the chain's id at once, as upstream returns its ids.
// The job still ends only when the chain has; its result is then { chain: id }, and the chain's
// own result (the last step's return value) is read with that id:
// `await pc.AsyncResult(id, 'canvas').get()` in a script, or in the Temporal UI.
//
//   params: { "width": 512, "height": 512 }
//   outputs: export.glb, iso.png, x.png, y.png, z.png
import path from 'node:path';
import { loadModel, saveModel, writeThumbnails } from 'pixyz-scheduler/geometry';
import { chain, pixyzSchedule, type ProgramContext } from 'pixyz-scheduler';

interface Params {
  width?: number;
  height?: number;
}

/** Step 1, on cpu: import the model (a STEP file is tessellated here) and export it as GLB. */
export async function importAndPrepare(pc: ProgramContext, params: Params) {
  const started = performance.now();
  const input = pc.getInputFile();
  if (!input) throw new Error('send a model file');
  pc.progressSetTotal(2);
  pc.progressNext(`Importing file ${path.basename(input)} on queue ${pc.options.queue}`);
  const model = await loadModel(input);
  pc.progressNext('Exporting export.glb');
  await saveModel(model.document, pc.getOutputDir('export.glb'), { units: model.units });
  return { ...params, glb: 'export.glb', process_duration: (performance.now() - started) / 1000 };
}

/** Step 2, on gpu: the four screenshots of what step 1 exported. */
export async function screenshot(pc: ProgramContext, params: Params & { glb: string }) {
  pc.progressSetTotal(5);
  pc.progressNext(`[screenshot] loading ${params.glb} on queue ${pc.options.queue}`);
  const model = await loadModel(pc.getOutputDir(params.glb));
  const thumbs = await writeThumbnails(model.document, pc.getOutputDir(), params.width ?? 512, params.height ?? 512, (view) =>
    pc.progressNext(`Screenshotting ${view.name}`),
  );
  return { ...params, thumbs };
}

// No `wait`: main returns as soon as the chain is started.
export const main = pixyzSchedule({ wait: false }, async (pc: ProgramContext, params: Params) => {
  const prepare = pc.clone({ entrypoint: 'importAndPrepare', raw: true }).s({ width: 512, height: 512, ...params }, { queue: 'cpu' });
  const shoot = pc.clone({ entrypoint: 'screenshot', raw: true }).s(undefined, { queue: 'gpu' });
  const started = chain(prepare, shoot).applyAsync();
  console.log(`chain ${started.id} started`);
  return { chain: started.id };
});
