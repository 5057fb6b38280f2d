// Run once when a worker serving `control` starts: the job workflow's code, a script process of
// each script queue and the runScript path do their first-time work (building the workflow
// sandbox, compiling, loading) here, not in the first job. Not a job: GET /jobs lists pixyzJob
// workflows only, and a warm-up run is neither recorded nor counted.
import { workflowInfo } from '@temporalio/workflow';
import type { WarmUpInput } from '../shared/types';
import { pixyzJob } from './job';

/** The compute-only script each warm-up run executes (it returns at once). */
export const WARM_UP_SCRIPT = 'scripts/warm-up.ts';
/** Its run limit: it returns at once; anything longer is a worker in trouble. */
const WARM_UP_TIME_LIMIT_SECONDS = 60;

export async function pixyzWarmUp({ queues, taskQueuePrefix, timeRequest }: WarmUpInput): Promise<void> {
  for (const queue of queues) {
    await pixyzJob({
      jobId: `${workflowInfo().workflowId}-${queue}`,
      process: 'warm-up',
      script: WARM_UP_SCRIPT,
      entrypoint: 'main',
      params: {},
      data: null,
      rootFile: null,
      queue,
      timeLimitSeconds: WARM_UP_TIME_LIMIT_SECONDS,
      computeOnly: true,
      name: null,
      timeRequest,
      taskQueuePrefix,
      warmUp: true,
    });
  }
}
