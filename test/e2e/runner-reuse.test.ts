// Script processes serve job after job (issue #11, as Celery's prefork children): each job still
// gets a fresh script module and context, and a process is replaced after too many jobs, too
// much memory, a kill, or a job that left a subprocess behind.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, isAlive, readScript, startStack, submit, waitForEnd, type Stack } from '../helpers/stack';

const fixture = (name: string) => ({ name, content: readScript(`test/fixtures/${name}`) });

async function runToEnd(stack: Stack, submission: Parameters<typeof submit>[1]): Promise<any> {
  const { body } = await submit(stack, submission);
  return { id: body.uuid, ...(await waitForEnd(stack, body.uuid)) };
}

describe('a reused script process', () => {
  let stack: Stack;
  beforeAll(async () => {
    // One idle process: consecutive jobs land on the process the previous job gave back.
    stack = await startStack({ RUNNER_POOL_SIZE: '1', RUNNER_MAX_MEMORY_MB: '400' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('gives each job a fresh script module and environment', async () => {
    const first = await runToEnd(stack, { script: fixture('counter.ts'), params: { leak: 'from the first job' } });
    const second = await runToEnd(stack, { script: fixture('counter.ts'), params: {} });
    expect(first).toMatchObject({ status: 'SUCCESS', result: { runs: 1, leaked: null, jobId: first.id } });
    expect(second).toMatchObject({ status: 'SUCCESS', result: { runs: 1, leaked: null, jobId: second.id } });
    expect(second.result.pid).toBe(first.result.pid); // the same process served both
    // Each job's log has its own output only, ending with what the process used.
    const log = fs.readFileSync(path.join(stack.sharePath, second.id, 'logs', `${second.id}.log`), 'utf8');
    expect(log).toMatch(/^--- .* attempt 1 on .*cpu\n--- script process: peak RSS \d+ MiB, CPU \d+\.\d+ s\n$/);
  });

  it('is replaced once it holds more than RUNNER_MAX_MEMORY_MB after a job', async () => {
    const grown = await runToEnd(stack, { script: fixture('grow.ts'), params: { mb: 500 } });
    expect(grown.status).toBe('SUCCESS');
    await eventually(() => (!isAlive(grown.result) ? true : undefined), 5000, 20);
    const next = await runToEnd(stack, { script: fixture('counter.ts') });
    expect(next.status).toBe('SUCCESS');
    expect(next.result.pid).not.toBe(grown.result);
  });

  it('is replaced, its subprocess killed, when the job left one running', async () => {
    const left = await runToEnd(stack, { script: fixture('leaves-child.ts') });
    expect(left.status).toBe('SUCCESS');
    await eventually(() => (!isAlive(left.result.child) && !isAlive(left.result.script) ? true : undefined), 5000, 20);
    const next = await runToEnd(stack, { script: fixture('counter.ts') });
    expect(next.result.pid).not.toBe(left.result.script);
  });

  it('is killed within 2 s when its job is cancelled, and the next job runs', async () => {
    const { body } = await submit(stack, { script: fixture('forever.ts') });
    const pidsFile = path.join(stack.sharePath, body.uuid, 'outputs', 'pids.json');
    const pids = await eventually(() => (fs.existsSync(pidsFile) ? JSON.parse(fs.readFileSync(pidsFile, 'utf8')) : undefined));
    const cancelledAt = Date.now();
    await stack.client.workflow.getHandle(body.uuid).cancel();
    await eventually(() => (!isAlive(pids.script) && !isAlive(pids.child) ? true : undefined), 5000, 20);
    expect(Date.now() - cancelledAt).toBeLessThan(2000);
    expect((await waitForEnd(stack, body.uuid)).status).toBe('REVOKED');
    const next = await runToEnd(stack, { script: fixture('counter.ts') });
    expect(next).toMatchObject({ status: 'SUCCESS', result: { runs: 1 } });
    expect(next.result.pid).not.toBe(pids.script);
  });

  it('is killed at its job’s time limit, and the next job runs', async () => {
    const { body } = await submit(stack, { script: fixture('forever.ts'), config: { time_limit: 2, retries: 0 } });
    const pidsFile = path.join(stack.sharePath, body.uuid, 'outputs', 'pids.json');
    const pids = await eventually(() => (fs.existsSync(pidsFile) ? JSON.parse(fs.readFileSync(pidsFile, 'utf8')) : undefined));
    const final = await waitForEnd(stack, body.uuid);
    expect(final).toMatchObject({ status: 'FAILURE', error: 'Task process timeout' });
    await eventually(() => (!isAlive(pids.script) && !isAlive(pids.child) ? true : undefined), 3000, 20);
    const next = await runToEnd(stack, { script: fixture('counter.ts') });
    expect(next).toMatchObject({ status: 'SUCCESS', result: { runs: 1 } });
  });
});

describe('RUNNER_MAX_JOBS=1', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ RUNNER_MAX_JOBS: '1' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('runs each job in a process of its own, as before reuse', async () => {
    const first = await runToEnd(stack, { script: fixture('counter.ts') });
    const second = await runToEnd(stack, { script: fixture('counter.ts') });
    expect(first.status).toBe('SUCCESS');
    expect(second.status).toBe('SUCCESS');
    expect(second.result.pid).not.toBe(first.result.pid);
    await eventually(() => (!isAlive(first.result.pid) ? true : undefined), 5000, 20);
  });
});
