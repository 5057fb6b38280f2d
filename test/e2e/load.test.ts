// Concurrent submissions: none lost, none duplicated, all SUCCESS. `npm test` sends 50 at once;
// `npm run bench:load` sends 1,000 and compares them with Temporal's floor. (The 100-child fan-out
// is in test/faults/fan-out.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { details, startStack, submit, type Stack } from '../helpers/stack';

const SUBMISSIONS = Number(process.env.LOAD_SUBMISSIONS ?? 50);
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ CONCURRENT_TASKS: '4' });
});
afterAll(async () => {
  await stack?.stop();
});

describe(`${SUBMISSIONS} concurrent submissions`, () => {
  it('all accepted with distinct ids, all end in SUCCESS with their own result', async () => {
    const script = { name: 'echo.ts', content: 'export async function main(_pc: unknown, p: { i: number }) { return { i: p.i }; }' };
    const replies = await Promise.all(Array.from({ length: SUBMISSIONS }, (_, i) => submit(stack, { script, params: { i }, name: 'load' })));
    expect(replies.map((r) => r.status)).toEqual(Array(SUBMISSIONS).fill(200));
    const ids = replies.map((r) => r.body.uuid as string);
    expect(new Set(ids).size).toBe(SUBMISSIONS);
    // Waited for through Temporal (a long poll each), then read once as a user would.
    await Promise.all(ids.map((id) => stack.client.workflow.getHandle(id).result()));
    const results = await Promise.all(ids.map((id) => details(stack, id)));
    expect(results.map((d) => d.status)).toEqual(Array(SUBMISSIONS).fill('SUCCESS'));
    expect(results.map((d) => d.result.i)).toEqual(Array.from({ length: SUBMISSIONS }, (_, i) => i));
  }, 300_000);
});
