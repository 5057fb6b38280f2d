// The smallest job: an entrypoint that sleeps for a tenth of a second. The wrapper is optional;
// a plain `export async function main(pc, params)` works the same.
import { setTimeout as sleep } from 'node:timers/promises';
import { pixyzSchedule, type ProgramContext } from 'pixyz-scheduler';

export const main = pixyzSchedule({ queue: 'cpu', timeLimit: 60 }, async (_pc: ProgramContext, _params: unknown) => {
  console.log('sleep 0.1 sec');
  await sleep(100);
});
