// The job's path since issue #11: as few Temporal steps as the job needs, and slots that bound
// scripts that compute, not scripts that wait on their sub-tasks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { details, eventually, startStack, submit, waitForEnd, type Stack } from '../helpers/stack';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { craftZip, readZip } from '../helpers/zip';

let stack: Stack;
beforeAll(async () => {
  // One compute slot per queue, as the default on a 2-core machine (cores − 1).
  stack = await startStack({ CONCURRENT_TASKS: '1' });
});
afterAll(async () => {
  await stack?.stop();
});

/** Activity types of a job's history, in order (local ones too, from their markers). */
async function steps(id: string): Promise<string[]> {
  const history = await stack.client.workflow.getHandle(id).fetchHistory();
  const out: string[] = [];
  for (const e of history.events ?? []) {
    if (e.activityTaskScheduledEventAttributes) out.push(e.activityTaskScheduledEventAttributes.activityType!.name!);
    if (e.markerRecordedEventAttributes?.markerName === 'core_local_activity') out.push('local');
  }
  return out;
}

const run = async (content: string, params: unknown = {}, file?: { name: string; content: string | Buffer }) => {
  const { status, body } = await submit(stack, { script: { name: 'job.ts', content }, params, ...(file ? { file } : {}) });
  expect(status).toBe(200);
  return { id: body.uuid as string, final: await waitForEnd(stack, body.uuid, () => {}, 60_000) };
};

describe('the job path', () => {
  it('starts warm: a worker’s warm-up ran its script queues, and is neither listed nor counted as a job', async () => {
    const warmUps = [];
    for await (const wf of stack.client.workflow.list({ query: `WorkflowType = "pixyzWarmUp" AND TaskQueue = "${stack.config.taskQueuePrefix}control"` })) warmUps.push(wf);
    expect(warmUps).toHaveLength(1);
    // Ended (from its description: the list's visibility may lag behind it on a busy machine).
    expect((await stack.client.workflow.getHandle(warmUps[0]!.workflowId).describe()).status.name).toBe('COMPLETED');
    const steps = (await stack.client.workflow.getHandle(warmUps[0]!.workflowId).fetchHistory()).events!.filter((e) => e.activityTaskScheduledEventAttributes);
    expect(steps.map((e) => e.activityTaskScheduledEventAttributes!.taskQueue!.name)).toEqual(
      ['control', 'cpu', 'gpu'].map((q) => `${stack.config.taskQueuePrefix}${q}`),
    );
    // Other test files share the server: no listed job may be a warm-up.
    const listed = (await (await stack.api('/jobs?all=true&limit=100')).json()) as { jobs: { uuid: string }[] };
    expect(listed.jobs.filter((j) => j.uuid.startsWith('pixyz-warm-up'))).toEqual([]);
    expect(await (await stack.api('/metrics')).text()).not.toMatch(/warm-up/);
  });

  it('a job that writes nothing is one activity; its archive is an empty zip', async () => {
    const { id, final } = await run(`export async function main() { return { ok: 1 }; }`);
    expect(final.status).toBe('SUCCESS');
    expect(final.result).toEqual({ ok: 1 });
    expect(await steps(id)).toEqual(['runScript']);
    // runScript recorded the success: state.json answers once Temporal has forgotten the job.
    const state = JSON.parse(fs.readFileSync(path.join(stack.sharePath, id, 'state.json'), 'utf8'));
    expect(state).toMatchObject({ status: 'SUCCESS', result: { ok: 1 }, error: null, jobId: id });
    const res = await stack.api(`/jobs/${id}/outputs/archive`);
    expect(res.status).toBe(200);
    const zip = Buffer.from(await res.arrayBuffer());
    expect([...(await readZip(zip)).keys()]).toEqual([]);
  });

  it('a failed job is recorded by a local activity', async () => {
    const { id, final } = await run(`export async function main() { throw new Error('no faces'); }`);
    expect(final.status).toBe('FAILURE');
    expect(await steps(id)).toEqual(['runScript', 'zipOutputs', 'local']);
    const state = JSON.parse(fs.readFileSync(path.join(stack.sharePath, id, 'state.json'), 'utf8'));
    expect(state).toMatchObject({ status: 'FAILURE', error: { message: 'no faces' } });
  });

  it('a job with outputs gets them zipped', async () => {
    const { id, final } = await run(
      `import fs from 'node:fs'; import path from 'node:path';
       export async function main(pc: any) { fs.writeFileSync(path.join(pc.getOutputDir(), 'a.txt'), fs.readFileSync(pc.getInputFile())); return 1; }`,
      {},
      { name: 'model.obj', content: 'v 0 0 0\n' },
    );
    expect(final.status).toBe('SUCCESS');
    expect(await steps(id)).toEqual(['runScript', 'zipOutputs', 'local']); // recorded once zipped
    const zip = Buffer.from(await (await stack.api(`/jobs/${id}/outputs/archive`)).arrayBuffer());
    expect((await readZip(zip)).get('a.txt')?.toString()).toBe('v 0 0 0\n');
  });

  it('a job whose sub-task writes outputs after the script returned gets them zipped, then recorded', async () => {
    const { id, final } = await run(`
      import fs from 'node:fs'; import path from 'node:path';
      import type { ProgramContext } from 'pixyz-scheduler';
      export async function late(pc: ProgramContext) {
        await new Promise((r) => setTimeout(r, 300));
        fs.writeFileSync(path.join(pc.getOutputDir(), 'late.txt'), 'from the sub-task');
      }
      export async function main(pc: ProgramContext) { pc.clone({ entrypoint: 'late' }).execute(); return 'returned first'; }
    `);
    expect(final.status).toBe('SUCCESS');
    expect(await steps(id)).toEqual(['runScript', 'local', 'zipOutputs', 'local']); // outputs looked at again, zipped, recorded
    const zip = Buffer.from(await (await stack.api(`/jobs/${id}/outputs/archive`)).arrayBuffer());
    expect((await readZip(zip)).get('late.txt')?.toString()).toBe('from the sub-task');
    expect(JSON.parse(fs.readFileSync(path.join(stack.sharePath, id, 'state.json'), 'utf8')).status).toBe('SUCCESS');
  });

  it('a job whose sub-tasks wrote nothing is not zipped, and is recorded once they ended', async () => {
    const { id, final } = await run(`
      import type { ProgramContext } from 'pixyz-scheduler';
      export async function part(_pc: ProgramContext, p: { i: number }) { return p.i; }
      export async function main(pc: ProgramContext) { return pc.clone({ entrypoint: 'part', raw: true }).execute({ i: 7 }).get(); }
    `);
    expect(final.status).toBe('SUCCESS');
    expect(final.result).toBe(7);
    expect(await steps(id)).toEqual(['runScript', 'local', 'local']); // outputs looked at again, then the record
    expect(JSON.parse(fs.readFileSync(path.join(stack.sharePath, id, 'state.json'), 'utf8')).status).toBe('SUCCESS');
  });

  it('an uploaded archive is unpacked by its own step first', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-zip-')), 'parts.zip');
    craftZip(file, [{ name: 'part.obj', content: 'v 1 2 3\n' }]);
    const archive = fs.readFileSync(file);
    const { id, final } = await run(
      `import fs from 'node:fs'; export async function main(pc: any) { return fs.readFileSync(pc.getInputFile(), 'utf8'); }`,
      {},
      { name: 'parts.zip', content: archive },
    );
    expect(final.status).toBe('SUCCESS');
    expect(final.result).toBe('v 1 2 3\n');
    expect((await steps(id))[0]).toBe('prepareShare');
  });

  it('a job that runs a while is listed as RUNNING (visibility) within a second or two of its start', async () => {
    const { status, body } = await submit(stack, {
      script: { name: 'slow.ts', content: `export async function main() { await new Promise((r) => setTimeout(r, 4000)); return 1; }` },
    });
    expect(status).toBe(200);
    const listed = async (filter: string) => {
      const res = await stack.api(`/jobs?status=${filter}&all=true`);
      return ((await res.json()) as { jobs: { uuid: string }[] }).jobs.some((j) => j.uuid === body.uuid);
    };
    const t0 = Date.now();
    await eventually(async () => ((await listed('RUNNING')) ? true : undefined), 10_000, 100);
    expect(Date.now() - t0).toBeLessThan(3500); // the script announces itself after 1 s
    expect(await listed('PENDING')).toBe(false);
    expect((await waitForEnd(stack, body.uuid)).status).toBe('SUCCESS');
  });

  it('with CONCURRENT_TASKS=1, a script on cpu that fans out on cpu and joins finishes', async () => {
    // The README's example: five clones on the parent's own queue, joined.
    const { id, final } = await run(`
      import { pixyzSchedule, type ProgramContext } from 'pixyz-scheduler';
      export async function part(_pc: ProgramContext, p: { i: number }) { return p.i * p.i; }
      export const main = pixyzSchedule({ queue: 'cpu' }, async (pc: ProgramContext) => {
        const results = [0, 1, 2, 3, 4].map((i) => pc.clone({ entrypoint: 'part', raw: true }).execute({ i }, { queue: 'cpu' }));
        const values = [];
        for (const r of results) values.push(await r.get());
        return values;
      });
    `);
    expect(final.status).toBe('SUCCESS');
    expect(final.result).toEqual([0, 1, 4, 9, 16]);
    expect((await details(stack, id)).children).toEqual({ started: 5, done: 5, failed: 0 });
  });
});
