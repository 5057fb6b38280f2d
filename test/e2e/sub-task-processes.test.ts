// A sub-task naming a predefined process runs where, and as long as, that process says (its
// pixyzSchedule / @pixyz_schedule queue and run limit), as it would posted to the API, unless the
// script that starts it says otherwise.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, submit, waitForEnd, type Stack } from '../helpers/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ PROCESS_PATH: path.resolve(__dirname, '../fixtures/processes'), CONCURRENT_TASKS: '2' });
});
afterAll(async () => {
  await stack?.stop();
});

describe('a sub-task naming a process', () => {
  it('takes the queue and run limit the process states, TypeScript or Python, alone or in a group; what the script sets wins', async () => {
    const { body } = await submit(stack, { process: 'spawner' });
    const final = await waitForEnd(stack, body.uuid, () => {}, 60_000);
    expect(final.status, final.error).toBe('SUCCESS');
    expect(final.result).toEqual({
      ts: { queue: 'gpu', timeLimit: 7 },
      py: { queue: 'gpu', timeLimit: 9 },
      chosen: { queue: 'cpu', timeLimit: 30 },
      grouped: [{ queue: 'gpu', timeLimit: 9 }],
    });
  });

  it('is refused, naming the process, when there is no such process', async () => {
    const { body } = await submit(stack, {
      script: { name: 'bad-process.ts', content: Buffer.from(`import { ProgramContext } from 'pixyz-scheduler';\nexport async function main(pc: ProgramContext) { return pc.clone({ raw: true }).execute({}, { process: 'no_such_process' }).get(); }\n`) },
    });
    const final = await waitForEnd(stack, body.uuid);
    expect(final.status).toBe('FAILURE');
    expect(final.error).toMatch(/names the process 'no_such_process', which is not one/);
  });
});
