// Every tutorial runs the same way on a laptop (pixyz-local, no Temporal) and through the
// scheduler, with the same result.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack';
import { QUAD_OBJ, quarterCrcSum, runLocally as runLocallyIn, runScheduled as runScheduledOn } from '../helpers/tutorials';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-tutorials-'));
const MODEL = QUAD_OBJ;
const modelFile = path.join(work, 'quad.obj');
fs.writeFileSync(modelFile, MODEL);


const runLocally = (tutorial: string, params: unknown, input?: string) => runLocallyIn(work, tutorial, params, input);
const runScheduled = (tutorial: string, params: unknown, input?: string) => runScheduledOn(stack, tutorial, params, input);

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

// Each runs a script twice (here and scheduled) with sub-tasks: minutes when the load test shares the 2 cores.
describe('tutorials, locally and through the scheduler', { timeout: 180_000 }, () => {
  it('00_sleep', async () => {
    expect((await runLocally('00_sleep.ts', {})).result).toBeNull();
    expect((await runScheduled('00_sleep.ts', {})).result).toBeNull();
  });

  it('00_progress', async () => {
    const params = { steps: 2, stepSeconds: 0.2 };
    const expected = { steps: 2, input: { name: 'quad.obj', bytes: MODEL.length } };
    const local = await runLocally('00_progress.ts', params, modelFile);
    expect(local.result).toEqual(expected);
    expect(local.outputs).toEqual(['quad.obj', 'report.json']);
    const scheduled = await runScheduled('00_progress.ts', params, modelFile);
    expect(scheduled.result).toEqual(expected);
    expect(scheduled.steps.map((s: { info: string }) => s.info)).toEqual([
      'Sleeping for 0.2 seconds (step 1/2)',
      'Sleeping for 0.2 seconds (step 2/2)',
    ]);
  });

  it('02_celery_dag_sync: a chord of checksums over four parts, joined', async () => {
    const expected = { crc32: quarterCrcSum(MODEL) };
    const local = await runLocally('02_celery_dag_sync.ts', { sleep: 0 }, modelFile);
    expect(local.result).toEqual(expected);
    expect(local.outputs).toEqual(['crc_part0', 'crc_part1', 'crc_part2', 'crc_part3']);
    expect((await runScheduled('02_celery_dag_sync.ts', { sleep: 0 }, modelFile)).result).toEqual(expected);
  });

  it('02_celery_dag_async: the same chord, its id returned at once', async () => {
    expect((await runLocally('02_celery_dag_async.ts', { sleep: 0 }, modelFile)).result).toEqual({ chord: expect.stringMatching(UUID) });
    const { result } = await runScheduled('02_celery_dag_async.ts', { sleep: 0 }, modelFile);
    expect(await stack.client.workflow.getHandle(result.chord).result()).toEqual({ crc32: quarterCrcSum(MODEL) });
  });

  it('03_group_async: nested groups of sleeping sub-tasks', async () => {
    const params = { times: [0.1, 0.2, 0.3, 0.4] };
    expect((await runLocally('03_group_async.ts', params)).result).toEqual({ group: expect.stringMatching(UUID) });
    const { result } = await runScheduled('03_group_async.ts', params);
    const value = (await stack.client.workflow.getHandle(result.group).result()) as { result: number }[][];
    expect(value.map((g) => g.map((t) => t.result))).toEqual([
      [0.1, 0.2],
      [0.3, 0.4],
    ]);
  });

  it('04_chain_async: each step gets the previous one’s result', async () => {
    expect((await runLocally('04_chain_async.ts', { time: 0.2 })).result).toEqual({ chain: expect.stringMatching(UUID) });
    const { result } = await runScheduled('04_chain_async.ts', { time: 0.2 });
    const value = (await stack.client.workflow.getHandle(result.chain).result()) as { time: number; id: number };
    expect(value.id).toBe(2);
    expect(value.time).toBeCloseTo(0.002);
  });
});
