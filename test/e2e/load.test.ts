// Heavy work, in one file so that it runs in sequence, not beside itself: 200 submissions in
// parallel (none lost, none duplicated, all SUCCESS) and a 100-child fan-out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readScript, startStack, submit, waitForEnd, type Stack } from '../helpers/stack';

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

describe('a fan-out', () => {
  const script = { name: 'sub-tasks.ts', content: readScript('test/fixtures/sub-tasks.ts') };
  const run = async (entrypoint: string, params: unknown = {}) => {
    const { status, body } = await submit(stack, { script, params, config: { entrypoint } });
    expect(status).toBe(200);
    return { id: body.uuid as string, final: await waitForEnd(stack, body.uuid, () => {}, 140_000) };
  };

  it('fan out to 100 children and join them', async () => {
    const { id, final } = await run('fanout', { count: 100 });
    expect(final.error).toBeNull();
    expect(final.result.count).toBe(100);
    expect(final.result.total).toBe(2 * ((99 * 100) / 2));
    console.log(`100-child fan-out and join: ${final.result.seconds.toFixed(1)} s`);
    const status = await stack.client.workflow.getHandle(id).query('status');
    expect(status).toMatchObject({ children: { started: 100, done: 100, failed: 0 } });
    expect(final.children).toEqual({ started: 100, done: 100, failed: 0 });
  }, 150_000);
});
