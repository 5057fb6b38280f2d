// Faults from the script itself: a native crash (SIGABRT) and a storm of subprocesses. (The heap
// cap, SCRIPT_MAX_MEMORY_MB, is in test/e2e/job-failures.test.ts.) Each ends FAILURE with a
// message saying what happened; the worker goes on serving jobs; no process is left behind.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { details, eventually, isAlive, readScript, startStack, submit, waitForEnd, type Stack } from '../helpers/stack';

const fixture = (name: string) => ({ name, content: readScript(`test/fixtures/faults/${name}`) });

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

async function workerStillServes(): Promise<void> {
  const { body } = await submit(stack, { script: { name: 'ok.ts', content: 'export async function main() { return 1; }' } });
  expect((await waitForEnd(stack, body.uuid)).status).toBe('SUCCESS');
}

describe('a script that', () => {
  it('crashes natively (SIGABRT) fails, says it was killed by SIGABRT, and is tried once more', async () => {
    const { body } = await submit(stack, { script: fixture('aborts.ts') });
    const final = await waitForEnd(stack, body.uuid);
    expect(final).toMatchObject({ status: 'FAILURE', error: 'Task process exited with error', retry: 1 });
    const log = fs.readFileSync(path.join(stack.sharePath, body.uuid, 'logs', `${body.uuid}.log`), 'utf8');
    expect([...log.matchAll(/^--- \S+ attempt (\d) on /gm)].map((m) => m[1])).toEqual(['1', '2']);
    expect(log).toMatch(/--- attempt 1 failed: Task process exited with error: the script process was killed by SIGABRT/);
    expect(JSON.stringify(await details(stack, body.uuid))).toMatch(/killed by SIGABRT/);
    await workerStillServes();
  });

  it('starts 100 subprocesses and fails leaves none of them running', async () => {
    const { body } = await submit(stack, { script: fixture('forks.ts') });
    const final = await waitForEnd(stack, body.uuid);
    expect(final).toMatchObject({ status: 'FAILURE', error: 'started 100 subprocesses and gave up' });
    const pids = JSON.parse(fs.readFileSync(path.join(stack.sharePath, body.uuid, 'outputs', 'pids.json'), 'utf8')) as number[];
    expect(pids).toHaveLength(100);
    await eventually(() => (pids.some(isAlive) ? undefined : true), 3000, 50);
    await workerStillServes();
  });
});
