// 01_workflow_engine split into a chain of two sub-tasks, each on the queue that suits it: the
// cpu step loads the model and writes export.glb; the gpu step takes the screenshots of
// export.glb. main waits for the chain (`wait: true`, so it runs on the control queue, where
// jobs that wait belong) and the job's result is the chain's: the last step's return value.
// Upstream's first step writes export.pxz and its screenshot step is compute-only with an
// output_dir param; here both steps are clones of the job's context, so they work in the job's
// directory and every file lands in its outputs/.
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
  // A raw step's return value is, as is, the params of the next step.
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

export const main = pixyzSchedule({ wait: true, timeout: 3600 }, async (pc: ProgramContext, params: Params) => {
  // raw: each step passes its return value on as it is (not wrapped in progress information).
  const prepare = pc.clone({ entrypoint: 'importAndPrepare', raw: true }).s({ width: 512, height: 512, ...params }, { queue: 'cpu' });
  // No params: a chain step receives the previous step's result.
  const shoot = pc.clone({ entrypoint: 'screenshot', raw: true }).s(undefined, { queue: 'gpu' });
  // With `wait`, returning the started chain makes its result the job's.
  return chain(prepare, shoot).applyAsync();
});
