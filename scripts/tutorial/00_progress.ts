// Progress: announce the number of steps, open each step as it begins, and the API shows the
// percentage and each step's duration while the job runs. With a model file, the job also writes
// a small report about it to outputs/.
//
//   params: { "steps": 3, "stepSeconds": 1 }
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pixyzSchedule, type ProgramContext } from 'pixyz-scheduler';

interface Params {
  steps?: number;
  stepSeconds?: number;
}

export const main = pixyzSchedule({ queue: 'cpu', timeLimit: 600 }, async (pc: ProgramContext, params: Params) => {
  const steps = params.steps ?? 3;
  const stepSeconds = params.stepSeconds ?? 1;
  pc.progressSetTotal(steps);
  for (let i = 1; i <= steps; i++) {
    pc.progressNext(`Sleeping for ${stepSeconds} seconds (step ${i}/${steps})`);
    await sleep(stepSeconds * 1000);
  }
  pc.progressStop();

  const input = pc.getInputFile();
  const report = {
    input: input ? { name: path.basename(input), bytes: (await fs.stat(input)).size } : null,
    steps: pc.progress.steps,
  };
  if (!pc.isComputeOnly()) {
    await fs.writeFile(pc.getOutputDir('report.json'), JSON.stringify(report, null, 2));
    if (input) await fs.copyFile(input, pc.getOutputDir(path.basename(input)));
  }
  return { steps, input: report.input };
});
