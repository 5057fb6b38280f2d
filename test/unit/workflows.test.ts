// The workflows' branches with stubbed activities, on the real dev server: which steps a job
// takes for each outcome of its script, what it records, how it fails, and how a canvas runs
// and stops. No process, no share: each case takes milliseconds to a second. (What a user sees
// end to end is in test/e2e/.)
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { NativeConnection, Worker } from '@temporalio/worker';
import { installTestRuntime } from '../helpers/runtime';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readJob, stateOf } from '../../src/api/job-state';
import { ErrorType } from '../../src/shared/errors';
import { FINAL_STATUS_UNPUBLISHED, PATCHES_STATED } from '../../src/shared/path-version';
import { JOB_STATUS } from '../../src/shared/search-attributes';
import type { Canvas, CanvasInput, JobInput, ProgressSnapshot, RecordStateInput, RunScriptInput, RunScriptOutput, TaskSignature } from '../../src/shared/types';

const PROGRESS: ProgressSnapshot = { total: 1, current: 1, progress: 100, steps: [{ info: 'step 1', duration: 0 }], started: '2026-12-01T00:00:00.000Z', stopped: '2026-12-01T00:00:01.000Z' };

/** What the stubs saw, per job id. */
const calls: { activity: string; jobId: string; arg: unknown }[] = [];
const callsOf = (jobId: string) => calls.filter((c) => c.jobId === jobId).map((c) => c.activity);
/** How runScript behaves, per entrypoint (the job's `entrypoint` names the case). */
const behaviours: Record<string, (input: RunScriptInput, attempt: number) => Promise<RunScriptOutput>> = {
  empty: async () => ({ result: 'ok', progress: PROGRESS, attempt: 1, outputsEmpty: true, spawned: false, recorded: true }),
  outputs: async () => ({ result: 'ok', progress: PROGRESS, attempt: 1, outputsEmpty: false, spawned: false, recorded: false }),
  double: async ({ job }) => ({ result: { n: (job.params as { n: number }).n * 2 }, progress: PROGRESS, attempt: 1, outputsEmpty: true, spawned: false, recorded: true }),
  sum: async ({ job }) => ({ result: { total: (job.params as { n: number }[]).reduce((a, r) => a + r.n, 0) }, progress: PROGRESS, attempt: 1, outputsEmpty: true, spawned: false, recorded: true }),
  throws: async () => {
    throw ApplicationFailure.create({ type: ErrorType.ScriptFailed, message: 'no faces', nonRetryable: true, details: [{ stack: 'Error: no faces\n    at main', progress: PROGRESS, attempt: 1 }] });
  },
  throwsLong: async () => {
    throw ApplicationFailure.create({ type: ErrorType.ScriptFailed, message: `no faces: ${'x'.repeat(100_000)}`, nonRetryable: true, details: [{ stack: null, progress: PROGRESS, attempt: 1 }] });
  },
  shutdownOnce: async (_input, attempt) => {
    if (countOf('shutdownOnce') === 1) throw ApplicationFailure.create({ type: ErrorType.WorkerShutdown, message: 'the worker stopped', nonRetryable: true });
    return { result: { attempt }, progress: PROGRESS, attempt, outputsEmpty: true, spawned: false, recorded: true };
  },
  hangs: async () => {
    const ctx = Context.current();
    for (;;) {
      ctx.heartbeat();
      await ctx.sleep(50); // rejects once the activity is cancelled
    }
  },
};
const seenEntrypoints: string[] = [];
/** A job's zip waits for its gate, when it has one. */
const zipGates = new Map<string, Promise<void>>();
const countOf = (entrypoint: string) => seenEntrypoints.filter((e) => e === entrypoint).length;

const activities = {
  async runScript(input: RunScriptInput): Promise<RunScriptOutput> {
    calls.push({ activity: 'runScript', jobId: input.job.jobId, arg: input });
    seenEntrypoints.push(input.job.entrypoint);
    return behaviours[input.job.entrypoint]!(input, Context.current().info.attempt);
  },
  async prepareShare({ jobId, data }: { jobId: string; data: string | null }) {
    calls.push({ activity: 'prepareShare', jobId, arg: data });
    return { inputFile: `${jobId}/inputs/extracted/part.obj` };
  },
  async zipOutputs({ jobId }: { jobId: string }) {
    calls.push({ activity: 'zipOutputs', jobId, arg: null });
    await zipGates.get(jobId);
    return { archive: `${jobId}/archives/${jobId}.zip`, entries: 1, bytes: 100 };
  },
  async recordState(input: RecordStateInput) {
    calls.push({ activity: 'recordState', jobId: input.state.jobId, arg: input.state });
  },
  async outputsEmpty({ jobId }: { jobId: string }) {
    calls.push({ activity: 'outputsEmpty', jobId, arg: null });
    return true;
  },
};

let client: Client;
let connection: Connection;
let native: NativeConnection;
let running: Promise<unknown>;
let workers: Worker[];
const prefix = `wf${randomUUID().slice(0, 8)}-`;

beforeAll(async () => {
  installTestRuntime();
  const address = inject('temporalAddress');
  native = await NativeConnection.connect({ address });
  connection = await Connection.connect({ address });
  client = new Client({ connection });
  workers = await Promise.all([
    // Heartbeats reach Temporal every 0.25 s, as the scheduler's worker sends them: a cancel gets through at once.
    Worker.create({ connection: native, taskQueue: `${prefix}control`, workflowBundle: { codePath: inject('workflowBundlePath') }, activities, maxHeartbeatThrottleInterval: '250ms' }),
    Worker.create({ connection: native, taskQueue: `${prefix}cpu`, activities, maxHeartbeatThrottleInterval: '250ms' }),
    Worker.create({ connection: native, taskQueue: `${prefix}share`, activities, maxHeartbeatThrottleInterval: '250ms' }),
  ]);
  running = Promise.all(workers.map((w) => w.run()));
});
afterAll(async () => {
  for (const w of workers ?? []) w.shutdown();
  await running;
  await connection?.close();
  await native?.close();
});

function jobInput(entrypoint: string, extra: Partial<JobInput> = {}): JobInput {
  const jobId = randomUUID();
  return {
    jobId,
    process: 'custom',
    script: `${jobId}/inputs/job.ts`,
    entrypoint,
    params: {},
    data: null,
    rootFile: null,
    queue: 'cpu',
    timeLimitSeconds: 60,
    computeOnly: false,
    name: null,
    timeRequest: '2026-12-01T00:00:00.000',
    taskQueuePrefix: prefix,
    ...extra,
  };
}
const start = (job: JobInput) => client.workflow.start('pixyzJob', { taskQueue: `${prefix}control`, workflowId: job.jobId, args: [job] });
const recorded = (jobId: string) => calls.filter((c) => c.jobId === jobId && c.activity === 'recordState').map((c) => (c.arg as { status: string }).status);

describe('pixyzJob', () => {
  it('runs a script that writes nothing as one activity: no zip, no record of its own (runScript kept it)', async () => {
    const job = jobInput('empty');
    const out = await (await start(job)).result();
    expect(out).toMatchObject({ result: 'ok', archive: null, retry: 0 });
    expect(callsOf(job.jobId)).toEqual(['runScript']);
    expect(calls.find((c) => c.jobId === job.jobId)!.arg).toMatchObject({ ownsShare: true, recordsSuccess: true, announceRunningAfterMs: 1000 });
  });

  it('leaves its end to Temporal’s execution status from path version 3; a job of version 2 publishes it as PixyzStatus', async () => {
    const v3 = jobInput('empty', { pathVersion: FINAL_STATUS_UNPUBLISHED });
    const v2 = jobInput('empty', { pathVersion: PATCHES_STATED });
    await Promise.all([(await start(v3)).result(), (await start(v2)).result()]);
    const upserts = async (jobId: string) =>
      (await client.workflow.getHandle(jobId).fetchHistory()).events!.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes).length;
    const statusOf = async (jobId: string) => (await client.workflow.getHandle(jobId).describe()).typedSearchAttributes.get(JOB_STATUS);
    expect([await upserts(v3.jobId), await statusOf(v3.jobId)]).toEqual([0, undefined]);
    expect([await upserts(v2.jobId), await statusOf(v2.jobId)]).toEqual([1, 'SUCCESS']);
    // What the API shows of both: Temporal's status.
    for (const job of [v3, v2]) expect((await readJob({ client, controlQueue: `${prefix}control` }, job.jobId)).status).toBe('SUCCESS');
  });

  it('zips and records a script’s outputs', async () => {
    const job = jobInput('outputs');
    const out = await (await start(job)).result();
    expect(out.archive).toBe(`${job.jobId}/archives/${job.jobId}.zip`);
    expect(callsOf(job.jobId)).toEqual(['runScript', 'zipOutputs', 'recordState']);
    expect(recorded(job.jobId)).toEqual(['SUCCESS']);
  });

  it('unpacks an uploaded archive first and hands its model to the script', async () => {
    const job = jobInput('empty', { data: 'x/inputs/parts.zip' });
    await (await start(job)).result();
    expect(callsOf(job.jobId)).toEqual(['prepareShare', 'runScript']);
    expect(calls.find((c) => c.jobId === job.jobId && c.activity === 'runScript')!.arg).toMatchObject({ inputFile: `${job.jobId}/inputs/extracted/part.obj` });
  });

  it('fails with the script’s own type and message, zips what it wrote and records FAILURE', async () => {
    const job = jobInput('throws');
    const err = await (await start(job)).result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect({ type: cause.type, message: cause.message }).toEqual({ type: ErrorType.ScriptFailed, message: 'no faces' });
    expect(callsOf(job.jobId)).toEqual(['runScript', 'zipOutputs', 'recordState']);
    const state = calls.find((c) => c.jobId === job.jobId && c.activity === 'recordState')!.arg as { status: string; error: { type: string; message: string; stack: string } };
    expect(state).toMatchObject({ status: 'FAILURE', error: { type: ErrorType.ScriptFailed, message: 'no faces', stack: 'Error: no faces\n    at main' } });
  });

  it('runs a script cut short by a worker’s shutdown again, as attempt 1', async () => {
    const job = jobInput('shutdownOnce', { retries: 0 });
    const out = await (await start(job)).result();
    expect(out).toMatchObject({ result: { attempt: 1 }, retry: 0 });
    expect(callsOf(job.jobId)).toEqual(['runScript', 'runScript']);
  });

  it('records REVOKED when cancelled, once its script has stopped', async () => {
    const job = jobInput('hangs');
    const handle = await start(job);
    await expect.poll(() => callsOf(job.jobId), { timeout: 10_000 }).toEqual(['runScript']);
    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect(String((err as Error).cause)).toMatch(/Cancel/i);
    expect(recorded(job.jobId)).toEqual(['REVOKED']);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
  });

  it('refuses a sub-task spawned when no script runs', async () => {
    const job = jobInput('empty');
    const handle = await start(job);
    await handle.result();
    const task: TaskSignature = { kind: 'task', id: randomUUID(), entrypoint: 'double', params: { n: 1 }, queue: 'cpu', timeLimitSeconds: null, raw: true, shareParent: true, data: null, rootFile: null, computeOnly: false, name: null };
    await expect(handle.executeUpdate('spawn', { args: [{ canvas: task }] })).rejects.toThrow();
  });
});

describe('a job as the API reads it from its workflow', () => {
  /** The job's visibility record, as a page of GET /jobs has it. */
  const listed_ = (jobId: string) => listed(jobId).catch(() => ({ status: 'unknown', error: null as string | null }));
  const listed = async (jobId: string) => {
    for await (const info of client.workflow.list({ query: `WorkflowId = "${jobId}"` })) return stateOf(client, info);
    throw new Error(`${jobId} is not in the visibility store`);
  };

  it('is RUNNING at 100 % while a successful script’s outputs are zipped, without a percentage once it failed', async () => {
    for (const [entrypoint, progress] of [['outputs', 100], ['throws', null]] as const) {
      const job = jobInput(entrypoint);
      let open!: () => void;
      zipGates.set(job.jobId, new Promise<void>((r) => (open = r)));
      const handle = await start(job);
      try {
        await expect.poll(() => callsOf(job.jobId), { timeout: 10_000 }).toContain('zipOutputs');
        expect(await readJob({ client, controlQueue: `${prefix}control` }, job.jobId), entrypoint).toMatchObject({ status: 'RUNNING', progress, error: null });
        expect(await listed(job.jobId), entrypoint).toMatchObject({ status: 'RUNNING', progress: null });
      } finally {
        open();
      }
      await handle.result().catch(() => {});
    }
  });

  it('lists a failed job with its error and progress from what it published as it ended', async () => {
    const job = jobInput('throws');
    await (await start(job)).result().catch(() => {});
    await expect.poll(() => listed(job.jobId).catch(() => null), { timeout: 10_000 }).toMatchObject({ status: 'FAILURE' });
    expect(await listed(job.jobId)).toEqual({ uuid: job.jobId, name: null, status: 'FAILURE', progress: 100, error: 'no faces' });
    expect((await client.workflow.getHandle(job.jobId).describe()).memo).toMatchObject({ failure: { error: 'no faces', progress: 100 } });
  });

  it('publishes a long error cut to a memo’s size, the whole of it staying in the job’s failure', async () => {
    const job = jobInput('throwsLong');
    const err = await (await start(job)).result().catch((e: unknown) => e);
    expect(((err as WorkflowFailedError).cause as ApplicationFailure).message).toHaveLength(100_010);
    await expect.poll(async () => (await listed_(job.jobId)).status, { timeout: 10_000 }).toBe('FAILURE');
    const state = await listed_(job.jobId);
    expect(state.error).toHaveLength(1000);
    expect(state.error!.endsWith('…')).toBe(true);
  });

  it('reads the failure of a job that published none (as releases before published-state-v1) from Temporal', async () => {
    // A warm-up publishes nothing: its failure is what a job of an older release left.
    const job = jobInput('throws', { warmUp: true });
    await (await start(job)).result().catch(() => {});
    expect((await client.workflow.getHandle(job.jobId).describe()).memo?.failure).toBeUndefined();
    expect(await listed(job.jobId)).toEqual({ uuid: job.jobId, name: null, status: 'FAILURE', progress: 100, error: 'no faces' });
  });

  it('shows a cancelled job REVOKED, and a terminated one FAILURE saying so', async () => {
    const cancelled = await start(jobInput('hangs'));
    await expect.poll(() => callsOf(cancelled.workflowId), { timeout: 10_000 }).toEqual(['runScript']);
    await cancelled.cancel();
    await cancelled.result().catch(() => {});
    expect(await stateOf(client, await cancelled.describe())).toMatchObject({ status: 'REVOKED', progress: null, error: null });
    const terminated = await start(jobInput('hangs'));
    await terminated.terminate('test over');
    expect(await stateOf(client, await terminated.describe())).toMatchObject({ status: 'FAILURE', progress: null, error: 'Job terminated' });
  });
});

describe('pixyzCanvas', () => {
  const task = (entrypoint: string, params?: unknown): TaskSignature => ({
    kind: 'task', id: randomUUID(), entrypoint, ...(params === undefined ? {} : { params }), queue: 'cpu', timeLimitSeconds: null, raw: true, shareParent: false, data: null, rootFile: null, computeOnly: false, name: null,
  });
  const runCanvas = (canvas: Canvas) => {
    const parent = jobInput('empty');
    return client.workflow.start('pixyzCanvas', { taskQueue: `${prefix}control`, workflowId: canvas.id, args: [{ canvas, parent } satisfies CanvasInput] });
  };

  it('runs a group in parallel, a chain in sequence and a chord’s body on its header’s results', async () => {
    const group: Canvas = { kind: 'group', id: randomUUID(), items: [1, 2, 3].map((n) => task('double', { n })) };
    expect(await (await runCanvas(group)).result()).toEqual([{ n: 2 }, { n: 4 }, { n: 6 }]);
    const chain: Canvas = { kind: 'chain', id: randomUUID(), items: [task('double', { n: 1 }), task('double'), task('double')] };
    expect(await (await runCanvas(chain)).result()).toEqual({ n: 8 });
    const chord: Canvas = { kind: 'chord', id: randomUUID(), header: [1, 2].map((n) => task('double', { n })), body: task('sum') };
    expect(await (await runCanvas(chord)).result()).toEqual({ total: 6 });
  });

  it('revokes the running members of a group when one fails, and names the one that failed', async () => {
    const failing = task('throws');
    const group: Canvas = { kind: 'group', id: randomUUID(), items: [task('hangs'), failing, task('hangs')] };
    const err = await (await runCanvas(group)).result().catch((e: unknown) => e);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe(ErrorType.ScriptFailed);
    expect(cause.message).toBe(`sub-task ${failing.id} (throws) of group ${group.id} failed: no faces; the group's other 2 started sub-task(s) were revoked or had ended`);
    const members = (group as { items: TaskSignature[] }).items;
    for (const member of [members[0]!, members[2]!]) {
      expect((await client.workflow.getHandle(member.id).describe()).status.name).toBe('CANCELLED');
      expect(recorded(member.id)).toEqual(['REVOKED']);
    }
  });
});
