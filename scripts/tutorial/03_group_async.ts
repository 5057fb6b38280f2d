// Nested groups: two groups of two sleeping sub-tasks each, all four in parallel, started from
// clones of the job's context (they share its directory). main returns their ids at once.
//
//   params: { "times": [2, 3, 4, 50] }   seconds each sub-task sleeps
import { setTimeout as sleep } from 'node:timers/promises';
import { group, type ProgramContext } from 'pixyz-scheduler';

interface SleepParams {
  time: number;
  id: number;
}

export async function mySleep(pc: ProgramContext, params: SleepParams): Promise<number> {
  pc.progressNext(`sleeping ${params.time} s`);
  console.log('task params:', params);
  await sleep(params.time * 1000);
  return params.time;
}

export async function main(pc: ProgramContext, params: { times?: number[] }) {
  const [a, b, c, d] = params.times ?? [2, 3, 4, 50];
  const sleeper = pc.clone({ entrypoint: 'mySleep' });
  const started = group(
    group(sleeper.s({ time: a, id: a }), sleeper.s({ time: b, id: b })),
    group(sleeper.s({ time: c, id: c }), sleeper.s({ time: d, id: d })),
  ).applyAsync();
  return { group: started.id };
}
