import { setTimeout as sleep } from 'node:timers/promises';
import { pixyzSchedule, type ProgramContext } from 'pixyz-scheduler';

/**
 * Sleep for a while: a job that does nothing, for trying the scheduler out.
 *
 * params: { "duration": 0.1 } — the time to sleep, in seconds.
 * result: { "sleep": <duration> }
 */
export const main = pixyzSchedule({ queue: 'cpu' }, async (pc: ProgramContext, params: { duration?: number }) => {
  pc.progressSetTotal(1);
  const duration = params.duration ?? 0.1;
  if (typeof duration !== 'number' || !(duration >= 0)) throw new Error(`duration must be a number of seconds ≥ 0, not ${JSON.stringify(duration)}`);
  pc.progressNext(`Sleeping for ${duration} seconds`);
  console.log(`Sleeping for ${duration} sec`);
  await sleep(duration * 1000);
  pc.progressStop();
  return { sleep: duration };
});
