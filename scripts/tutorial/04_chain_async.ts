// A chain of two sub-tasks: the second gets the first one's return value as its params (raw
// contexts pass values as they are). main returns the chain's id at once.
//
//   params: { "time": 2 }
import { setTimeout as sleep } from 'node:timers/promises';
import { chain, type ProgramContext } from 'pixyz-scheduler';

interface SleepParams {
  time: number;
  id: number;
}

export async function mySleep(pc: ProgramContext, params: SleepParams): Promise<SleepParams> {
  pc.progressNext(`sleeping ${params.time} s (${JSON.stringify(params)})`);
  await sleep(params.time * 1000);
  return { ...params, time: params.time / 10 };
}

export async function main(pc: ProgramContext, params: { time?: number }) {
  const step = pc.clone({ entrypoint: 'mySleep', raw: true });
  const time = params.time ?? 2;
  const started = chain(step.s({ time, id: 2 }), step.s()).applyAsync();
  return { chain: started.id };
}
