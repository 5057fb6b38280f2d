import { pixyzSchedule, type ProgramContext } from 'pixyz-scheduler';

/**
 * Test the Pixyz Scheduler API by returning a simple string.
 *
 * params: anything; echoed back in the result.
 * result: { "output": "Hello World!", "params": <params> }
 */
export const main = pixyzSchedule({ queue: 'cpu' }, async (pc: ProgramContext, params: unknown) => {
  pc.progressSetTotal(1);
  pc.progressNext('API tested successfully!');
  return { output: 'Hello World!', params };
});
