// Many users at once: 200 submissions in parallel, none lost, none duplicated, all SUCCESS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, submit, type Stack } from '../helpers/stack';

const SUBMISSIONS = 200;
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ CONCURRENT_TASKS: '4' });
});
afterAll(async () => {
  await stack?.stop();
});

describe('200 concurrent submissions', () => {
  it('all accepted with distinct ids, all end in SUCCESS with their own result', async () => {
    const script = { name: 'echo.ts', content: 'export async function main(_pc: unknown, p: { i: number }) { return { i: p.i }; }' };
    const replies = await Promise.all(Array.from({ length: SUBMISSIONS }, (_, i) => submit(stack, { script, params: { i }, name: 'load' })));
    expect(replies.map((r) => r.status)).toEqual(Array(SUBMISSIONS).fill(200));
    const ids = replies.map((r) => r.body.uuid as string);
    expect(new Set(ids).size).toBe(SUBMISSIONS);

    const results = await Promise.all(
      ids.map(async (id) => {
        for (;;) {
          const d = (await (await stack.api(`/jobs/${id}/details`)).json()) as { status: string; result: { i: number } };
          if (['SUCCESS', 'FAILURE', 'REVOKED'].includes(d.status)) return d;
          await new Promise((r) => setTimeout(r, 500));
        }
      }),
    );
    expect(results.map((d) => d.status)).toEqual(Array(SUBMISSIONS).fill('SUCCESS'));
    expect(results.map((d) => d.result.i)).toEqual(Array.from({ length: SUBMISSIONS }, (_, i) => i));
  }, 300_000);
});
