// A fan-out as wide as a job may hold (1,000 sub-tasks at once) completes, and the histories it
// writes stay under Temporal's limits (51,200 events and 50 MB a workflow; it warns from 10,240
// events and 10 MB). `npm test` fans out FAULT_FANOUT=100; `npm run test:faults` 1,000.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readScript, startStack, submit, waitForEnd, type Stack } from '../helpers/stack';

const WIDTH = Number(process.env.FAULT_FANOUT ?? 100);
const EVENTS_WARN = 10_240;
const BYTES_WARN = 10 * 2 ** 20;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ CONCURRENT_TASKS: '4' });
});
afterAll(async () => {
  await stack?.stop();
});

/** Events and bytes (as JSON) of a workflow's history. */
async function historySize(id: string): Promise<{ events: number; bytes: number }> {
  const history = await stack.client.workflow.getHandle(id).fetchHistory();
  return { events: history.events!.length, bytes: Buffer.byteLength(JSON.stringify(history)) };
}

describe(`a fan-out of ${WIDTH} sub-tasks`, () => {
  it('completes, its histories under what Temporal warns about', async () => {
    const started = Date.now();
    const { body } = await submit(stack, { script: { name: 'sub-tasks.ts', content: readScript('test/fixtures/sub-tasks.ts') }, params: { count: WIDTH }, config: { entrypoint: 'fanout' } });
    const final = await waitForEnd(stack, body.uuid, () => {}, 60_000 + WIDTH * 500);
    expect(final.status, final.error).toBe('SUCCESS');
    expect(final.result).toMatchObject({ count: WIDTH, total: WIDTH * (WIDTH - 1) });
    // Every child counted, in the job's status and its details.
    expect(await stack.client.workflow.getHandle(body.uuid).query('status')).toMatchObject({ children: { started: WIDTH, done: WIDTH, failed: 0 } });
    expect(final.children).toEqual({ started: WIDTH, done: WIDTH, failed: 0 });
    const job = await historySize(body.uuid);
    const canvases: string[] = [];
    for await (const wf of stack.client.workflow.list({ query: `ParentWorkflowId = "${body.uuid}"` })) canvases.push(wf.workflowId);
    expect(canvases).toHaveLength(1); // the group, whose children are the sub-tasks
    const group = await historySize(canvases[0]!);
    for (const h of [job, group]) {
      expect(h.events).toBeLessThan(EVENTS_WARN);
      expect(h.bytes).toBeLessThan(BYTES_WARN);
    }
    console.log(
      `fan-out of ${WIDTH}: ${((Date.now() - started) / 1000).toFixed(1)} s; job history ${job.events} events, ${(job.bytes / 1024).toFixed(0)} KiB; ` +
        `group history ${group.events} events, ${(group.bytes / 1024).toFixed(0)} KiB (Temporal's limits: 51,200 events, 50 MB)`,
    );
  }, 120_000 + WIDTH * 1000);
});
