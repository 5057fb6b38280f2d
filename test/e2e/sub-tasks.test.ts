// Sub-tasks through the scheduler: children are real child workflows; groups, chains and chords
// pass upstream's shapes; failures, cancels, fan-out and queue routing behave as a user expects.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOIN_POLL_MS, requestsInFlight, setJoinPollMs } from '../../src/activities/sub-tasks';
import { eventually, isAlive, readScript, startStack, submit, waitForEnd, type Stack } from '../helpers/stack';

const script = { name: 'sub-tasks.ts', content: readScript('test/fixtures/sub-tasks.ts') };
const run = async (entrypoint: string, params: unknown = {}) => {
  const { status, body } = await submit(stack, { script, params, config: { entrypoint } });
  expect(status).toBe(200);
  return { id: body.uuid as string, final: await waitForEnd(stack, body.uuid, () => {}, 110_000) };
};

/** The pids the job's hanging children wrote in its outputs (child-<i>.pid), once `count` have. */
const childPids = (jobId: string, count: number) =>
  eventually(() => {
    const outputs = path.join(stack.sharePath, jobId, 'outputs');
    const files = fs.existsSync(outputs) ? fs.readdirSync(outputs).filter((f) => f.endsWith('.pid')) : [];
    return files.length === count ? files.map((f) => Number(fs.readFileSync(path.join(outputs, f), 'utf8'))) : undefined;
  });

let stack: Stack;
beforeAll(async () => {
  // Joins wait in long polls of 0.3 s here (10 s in production): every join of these tests that
  // lasts longer (a 1.5-s child, a chain) goes through several.
  setJoinPollMs(300);
  // Two workers, as on two hosts: one serves control, cpu and share; the other only gpu.
  stack = await startStack({ CONCURRENT_TASKS: '4' }, process.env, [
    { queues: ['control', 'cpu', 'share'], env: { ...process.env, WORKER_NAME: 'cpu-host' } },
    { queues: ['gpu'], env: { ...process.env, WORKER_NAME: 'gpu-host' } },
  ]);
});
afterAll(async () => {
  try {
    await stack?.stop();
  } finally {
    setJoinPollMs(JOIN_POLL_MS); // the next test file of this fork shares the module
  }
});

describe('sub-tasks', () => {
  it('run as a single task, a group, a chain and a chord, with upstream’s shapes', async () => {
    const { id, final } = await run('main');
    expect(final.error).toBeNull();
    expect(final.result).toEqual({
      one: { n: 42 },
      parallel: [{ n: 2 }, { n: 4 }, { n: 6 }],
      sequence: { n: 8 }, // 1 → 2 → 4 → 8: each step gets the previous result
      merged: { total: 22, count: 2 }, // the merge step receives [{ result: { n }, steps, … }, …]
    });
    // The single sub-task is a child workflow of the job, visible under it in the Temporal UI.
    const children: string[] = [];
    for await (const wf of stack.client.workflow.list({ query: `ParentWorkflowId = "${id}"` })) children.push(wf.type);
    expect(children.filter((t) => t === 'pixyzJob')).toHaveLength(1);
    expect(children.filter((t) => t === 'pixyzCanvas')).toHaveLength(3);
  });

  it('are counted in the job metrics under their own name, the job once under its own', async () => {
    const count = async (process: string) => {
      const text = await (await fetch(`${stack.url}/metrics`)).text();
      return Number(new RegExp(`pixyz_jobs_finished_total\\{process="${process.replace('.', '\\.')}",status="SUCCESS"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    };
    const [jobs, doubles] = [await count('sub-tasks.ts'), await count('sub-tasks.ts:double')];
    await run('main'); // one job; its sub-tasks: 1 + 3 + 3 + 2 doubles and a sum
    expect(await count('sub-tasks.ts')).toBe(jobs + 1);
    expect(await count('sub-tasks.ts:double')).toBe(doubles + 9);
    expect(await count('sub-tasks.ts:sum')).toBeGreaterThanOrEqual(1);
  });

  it('fail their join with the child’s own error, which the parent may catch', async () => {
    const { final } = await run('catching');
    expect(final.status).toBe('SUCCESS');
    expect(final.result).toEqual({ caught: 'no faces in part 3', type: 'ScriptFailed', isSubTaskFailed: true, child: 'string' });
    const uncaught = await run('uncaught');
    expect(uncaught.final.status).toBe('FAILURE');
    expect(uncaught.final.error).toBe('no faces in part 4');
  });

  it('are waited for: a job does not end before the sub-tasks it left running', async () => {
    const { id, final } = await run('forget');
    expect(final.status).toBe('SUCCESS');
    expect(fs.readFileSync(path.join(stack.sharePath, id, 'outputs', 'late.txt'), 'utf8')).toBe('written by a sub-task');
    const child = await stack.client.workflow.getHandle(final.result.child).describe();
    expect(child.status.name).toBe('COMPLETED');
    const parent = await stack.client.workflow.getHandle(id).describe();
    expect(child.closeTime!.getTime()).toBeLessThanOrEqual(parent.closeTime!.getTime());
  });

  it('share the parent’s directory when cloned, and get their own from a fresh context', async () => {
    const { id, final } = await run('directories');
    expect(final.error).toBeNull();
    const outputs = (await (await stack.api(`/jobs/${id}/outputs`)).json()) as { outputs: string[] };
    expect(outputs.outputs).toEqual(['from-clone.txt', 'part.bin', 'size.txt']);
    expect(final.result.cloned).toEqual({ input: 'part.bin', outputDir: path.join(stack.sharePath, id, 'outputs') });
    const own = final.result.own as string;
    expect(final.result.measured).toEqual({ input: 'part.bin', outputDir: path.join(stack.sharePath, own, 'outputs') });
    expect(fs.readFileSync(path.join(stack.sharePath, own, 'outputs', 'size.txt'), 'utf8')).toBe('8');
    // The parent's zip holds what its clones wrote.
    const zip = await stack.api(`/jobs/${id}/outputs/archive`);
    expect(zip.status).toBe(200);
  });

  it('are cancelled with their parent, their script processes killed', async () => {
    const { body } = await submit(stack, { script, config: { entrypoint: 'hang' } });
    const pids = await childPids(body.uuid, 2);
    expect(pids.every(isAlive)).toBe(true);
    await stack.client.workflow.getHandle(body.uuid).cancel();
    await eventually(() => (pids.every((p) => !isAlive(p)) ? true : undefined), 10_000, 50);
    const final = await waitForEnd(stack, body.uuid);
    expect(final.status).toBe('REVOKED');
    const children: string[] = [];
    for await (const wf of stack.client.workflow.list({ query: `ParentWorkflowId = "${body.uuid}"` })) children.push(wf.status.name);
    expect(children).toEqual(['CANCELLED', 'CANCELLED']);
  });

  it('of a group are revoked when one of them fails, and the job’s error names that one', async () => {
    const { body } = await submit(stack, { script, config: { entrypoint: 'failingGroup' } });
    const pids = await childPids(body.uuid, 2);
    const final = await waitForEnd(stack, body.uuid);
    expect(final.status).toBe('FAILURE');
    expect(final.error).toMatch(/sub-task [\w-]+ \(failLater\) of group [\w-]+ failed: no faces in part 2; the group's other 2 started sub-task\(s\) were revoked/);
    expect(pids.some(isAlive)).toBe(false); // the siblings' scripts were killed
    // The siblings ended cancelled, each with its own record, as any revoked job.
    const members: { id: string; status: string }[] = [];
    for await (const canvas of stack.client.workflow.list({ query: `ParentWorkflowId = "${body.uuid}"` })) {
      for await (const wf of stack.client.workflow.list({ query: `ParentWorkflowId = "${canvas.workflowId}"` })) {
        const job = (await (await stack.api(`/jobs/${wf.workflowId}`)).json()) as { status: string };
        members.push({ id: wf.workflowId, status: job.status });
      }
    }
    expect(members.map((m) => m.status).sort()).toEqual(['FAILURE', 'REVOKED', 'REVOKED']);
  });

  it('are no longer waited for by a script killed during its join', async () => {
    const { body } = await submit(stack, { script, config: { entrypoint: 'killedWhileJoining', time_limit: 2, retries: 0 } });
    const pidFile = path.join(stack.sharePath, body.uuid, 'outputs', 'child-1.pid');
    const child = await eventually(() => (fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : undefined));
    await eventually(() => (requestsInFlight() > 0 ? true : undefined)); // the join waits on Temporal
    // The parent's script is killed at its 2-s limit; its join stops waiting then, while the
    // sub-task (8 s) still runs.
    await eventually(() => (requestsInFlight() === 0 ? true : undefined), 4000, 20);
    expect(isAlive(child)).toBe(true);
    const final = await waitForEnd(stack, body.uuid);
    expect(final.status).toBe('FAILURE');
    expect(final.error).toMatch(/timeout/i);
  });

  it('are refused at spawn, or before a chord’s body, when their data is over what Temporal carries', async () => {
    const { final } = await run('oversized');
    expect(final.status).toBe('SUCCESS');
    const [params, group, chord] = final.result as string[];
    expect(params).toMatch(/the params of sub-task [\w-]+ \(double\) are \d+ bytes of JSON, over the 524288-byte limit/);
    expect(group).toMatch(/this group of 10 sub-task\(s\) is \d+ bytes of JSON with its params, over the 1572864-byte limit of one spawn/);
    expect(chord).toMatch(/the results of chord [\w-]+'s 3 header task\(s\) are \d+ bytes of JSON, over the 1572864-byte limit of its body's input/);
  });

  it('go to the queue they ask for, on a worker that serves it', async () => {
    const { final } = await run('routed');
    expect(final.error).toBeNull();
    expect(final.result.control).toBe('cpu-host');
    expect(final.result.cpu.worker).toBe('cpu-host');
    expect(final.result.gpu.worker).toBe('gpu-host');
  });

  it('are refused, clearly, beyond the fan-out a job may hold', async () => {
    const { final } = await run('tooMany');
    expect(final.status).toBe('FAILURE');
    expect(final.error).toMatch(/too many sub-tasks at once: 0 running \+ 1001 new > 1000/);
  });

});
