import { setTimeout as sleep } from 'node:timers/promises';
import { pixyzSchedule, type ProgramContext } from 'pixyz-scheduler';

const params = {
  duration: { type: 'number', minimum: 0, default: 0.1, description: 'the time to sleep, in seconds' },
} as const;

/**
 * Sleep for a while: a job that does nothing, for trying the scheduler out.
 *
 * params: { "duration": 0.1 } — the time to sleep, in seconds.
 * result: { "sleep": <duration> }
 */
export const main = pixyzSchedule({ queue: 'cpu', params }, async (pc: ProgramContext, params: { duration?: number | string }) => {
  pc.progressSetTotal(1);
  // A number, or its text (a form sends "2"), as the API checked it.
  const duration = typeof params.duration === 'string' && params.duration.trim() !== '' ? Number(params.duration) : (params.duration ?? 0.1);
  if (typeof duration !== 'number' || !(duration >= 0)) throw new Error(`duration must be a number of seconds ≥ 0, not ${JSON.stringify(duration)}`);
  pc.progressNext(`Sleeping for ${duration} seconds`);
  console.log(`Sleeping for ${duration} sec`);
  await sleep(duration * 1000);
  pc.progressStop();
  return { sleep: duration };
});
