// Python job scripts written in upstream's style (pixyz_worker.script, celery's canvas): the same
// results on a laptop (python -m pixyz_worker.local, through pixyz-local) and through the
// scheduler; sub-tasks across languages; cancel, failures and reuse as for TypeScript scripts.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { details, eventually, isAlive, readScript, startStack, submit, waitForEnd, type Stack } from '../helpers/stack';
import { outputNames, QUAD_OBJ, quarterCrcSum, runLocally as runLocallyIn, runScheduled as runScheduledOn } from '../helpers/tutorials';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-python-'));
const MODEL = QUAD_OBJ;
const modelFile = path.join(work, 'quad.obj');
fs.writeFileSync(modelFile, MODEL);

const tutorial = (name: string) => `scripts/tutorial-python/${name}`;
const runLocally = (name: string, params: unknown, input?: string) => runLocallyIn(work, tutorial(name), params, input);
const runScheduled = (name: string, params: unknown, input?: string) => runScheduledOn(stack, tutorial(name), params, input);
const fixture = (name: string) => ({ name, content: readScript(`test/fixtures/python/${name}`) });

let stack: Stack;
beforeAll(async () => {
  // One script process per queue kept ready, and reused (the defaults serve 1000 jobs each).
  stack = await startStack({ RUNNER_POOL_SIZE: '1' });
});
afterAll(async () => {
  await stack?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('Python tutorials, locally and through the scheduler', { timeout: 180_000 }, () => {
  it('00_sleep and 00_progress: a result, steps and outputs', async () => {
    expect((await runLocally('00_sleep.py', { time: 0.05 })).result).toBeNull();
    expect((await runScheduled('00_sleep.py', { time: 0.05 })).result).toBeNull();
    const params = { steps: 2, step_seconds: 0.1 };
    const expected = { steps: 2, input: { name: 'quad.obj', bytes: MODEL.length } };
    const local = await runLocally('00_progress.py', params, modelFile);
    expect(local.result).toEqual(expected);
    expect(local.outputs).toEqual(['quad.obj', 'report.json']);
    const scheduled = await runScheduled('00_progress.py', params, modelFile);
    expect(scheduled.result).toEqual(expected);
    expect(scheduled.progress).toBe(100);
    expect(scheduled.steps.map((s: { info: string }) => s.info)).toEqual(['Sleeping for 0.1 seconds (step 1/2)', 'Sleeping for 0.1 seconds (step 2/2)']);
  });

  it('02_dag: a chord of fresh contexts, joined (main) and not (main_async)', async () => {
    const expected = { crc32: quarterCrcSum(MODEL) };
    const local = await runLocally('02_dag.py', { sleep: 0 }, modelFile);
    expect(local.result).toEqual(expected);
    expect(local.outputs).toEqual(['crc_part0', 'crc_part1', 'crc_part2', 'crc_part3']);
    expect((await runScheduled('02_dag.py', { sleep: 0 }, modelFile)).result).toEqual(expected);
    expect((await runLocallyIn(work, tutorial('02_dag.py'), { sleep: 0 }, modelFile, 'main_async')).result).toEqual({ chord: expect.stringMatching(UUID) });
    const { result } = await runScheduledOn(stack, tutorial('02_dag.py'), { sleep: 0 }, modelFile, { entrypoint: 'main_async' });
    // As Celery's, a chord's id is its body's: a job whose result is the merge's.
    expect((await waitForEnd(stack, result.chord)).result).toEqual(expected);
  });

  it('03_group, 04_chain, 05_chain_cpu_gpu: groups, chains and queues', async () => {
    const times = [0.05, 0.1, 0.15, 0.2];
    const values = (r: { result: number }[][]) => r.map((g) => g.map((t) => t.result));
    expect(values((await runLocally('03_group.py', { times })).result)).toEqual([[0.05, 0.1], [0.15, 0.2]]);
    expect(values((await runScheduled('03_group.py', { times })).result)).toEqual([[0.05, 0.1], [0.15, 0.2]]);
    expect((await runLocally('04_chain.py', { start: 1, steps: 3 })).result).toEqual({ chain: expect.stringMatching(UUID), value: 4 });
    expect((await runScheduled('04_chain.py', { start: 1, steps: 3 })).result).toEqual({ chain: expect.stringMatching(UUID), value: 4 });
    const expected = { model: 'part.stp', ran_on: ['cpu', 'gpu'] };
    expect((await runLocally('05_chain_cpu_gpu.py', {})).result).toEqual(expected);
    expect((await runScheduled('05_chain_cpu_gpu.py', {})).result).toEqual(expected);
  });

  it('06_fresh_context: a fresh context is a job of its own directory, a clone works in its parent’s', async () => {
    // Locally every sub-task writes where its parent does (as upstream's local mode).
    const local = await runLocally('06_fresh_context.py', {});
    expect(local.result.here).toEqual(['clone.txt', 'fresh.txt']);
    const { result } = await runScheduled('06_fresh_context.py', {});
    expect(result.fresh).toEqual({ file: 'fresh.txt', own_directory: true });
    expect(result.clone).toEqual({ file: 'clone.txt', own_directory: false });
    expect(result.here).toEqual(['clone.txt']);
    expect(await outputNames(stack, result.fresh_id)).toEqual(['fresh.txt']);
  });
});

describe('upstream names', { timeout: 120_000 }, () => {
  it('behave the same locally and through the scheduler: pixyz_execute, signature, subtask, results, failures', async () => {
    const expected = {
      script: true,
      entrypoint: 'main',
      values: [2, 4, 6, 8, 10],
      group: [12, 14],
      group_children: 2,
      as_tuple_ok: true,
      states: ['SUCCESS', true, true],
      failure: { type: 'SubTaskFailed', message: 'broken part 8', failed: true },
      messages: ['FAILURE'],
      raised: 'broken part 8',
    };
    expect((await runLocallyIn(work, 'test/fixtures/python/upstream_names.py', {})).result).toEqual(expected);
    expect((await runScheduledOn(stack, 'test/fixtures/python/upstream_names.py', {})).result).toEqual(expected);
  });
});

describe('Python and TypeScript sub-tasks, by process name', { timeout: 120_000 }, () => {
  it('a Python parent runs the TypeScript sleep process, and a TypeScript parent the Python file_checksum', async () => {
    const py = await submit(stack, { script: fixture('cross.py') });
    expect(py.status, JSON.stringify(py.body)).toBe(200);
    const tsParent = await submit(stack, { script: { name: 'calls-python.ts', content: readScript('test/fixtures/calls-python.ts') }, file: { name: 'quad.obj', content: MODEL } });
    expect(tsParent.status, JSON.stringify(tsParent.body)).toBe(200);
    const [a, b] = await Promise.all([waitForEnd(stack, py.body.uuid, () => {}, 90_000), waitForEnd(stack, tsParent.body.uuid, () => {}, 90_000)]);
    expect(a.error).toBeNull();
    expect(a.result).toEqual({ child: expect.stringMatching(UUID), value: { sleep: 0.05 } });
    expect(b.error).toBeNull();
    const md5 = crypto.createHash('md5').update(MODEL).digest('hex');
    expect(b.result).toEqual({ child: expect.stringMatching(UUID), value: { name: 'quad.obj', bytes: MODEL.length, algorithm: 'md5', digest: md5 } });
    // Each child lists under its own process.
    const list = (await (await stack.api('/jobs?all=true')).json()) as { jobs: { uuid: string; process: string }[] };
    const processOf = (id: string) => list.jobs.find((j) => j.uuid === id)?.process;
    expect(processOf(a.result.child)).toMatch(/^sleep/);
    expect(processOf(b.result.child)).toMatch(/^file_checksum/);
  });

  it('refuses a sub-task naming a process that is not one', async () => {
    const script = readScript('test/fixtures/python/cross.py').replace('process="sleep"', 'process="no_such_process"');
    const { body } = await submit(stack, { script: { name: 'bad-cross.py', content: script } });
    const final = await waitForEnd(stack, body.uuid, () => {}, 60_000);
    expect(final.status).toBe('FAILURE');
    expect(final.error).toMatch(/names the process 'no_such_process', which is not one/);
  });
});

describe('a Python script', { timeout: 90_000 }, () => {
  it('is killed with what it started within 2 s when its job is cancelled', async () => {
    const { body } = await submit(stack, { script: fixture('forever.py') });
    const pidsFile = path.join(stack.sharePath, body.uuid, 'outputs', 'pids.json');
    const pids = await eventually(() => (fs.existsSync(pidsFile) ? JSON.parse(fs.readFileSync(pidsFile, 'utf8')) : undefined), 30_000);
    expect(isAlive(pids.script)).toBe(true);
    expect(isAlive(pids.child)).toBe(true);
    const cancelledAt = Date.now();
    expect((await stack.api(`/jobs/${body.uuid}/cancel`, { method: 'POST' })).status).toBe(200);
    await eventually(() => (!isAlive(pids.script) && !isAlive(pids.child) ? true : undefined), 5000, 20);
    expect(Date.now() - cancelledAt).toBeLessThan(2000);
    expect((await waitForEnd(stack, body.uuid)).status).toBe('REVOKED');
    // The pool replaced the killed process: the next Python job runs.
    expect((await waitForEnd(stack, (await submit(stack, { script: fixture('counter.py') })).body.uuid)).status).toBe('SUCCESS');
  });

  it('that raises fails its job with the message and the last frames of its traceback', async () => {
    const { body } = await submit(stack, { script: fixture('throws.py') });
    const final = await waitForEnd(stack, body.uuid);
    expect(final.status).toBe('FAILURE');
    expect(final.error).toBe('the model part.stp is broken: no faces');
    expect(final.result).toMatch(/Traceback \(most recent call last\):\n.*File ".*throws\.py", line \d+, in main\n[\s\S]*in load\n[\s\S]*ValueError: the model part\.stp is broken: no faces/);
    expect(final.result).not.toMatch(/pixyz_worker/); // the runner's own frames are left out
    expect(final.steps).toEqual([{ info: 'Importing file', duration: -1 }]);
    // The job's log has the traceback too, then the attempt's end.
    const log = fs.readFileSync(path.join(stack.sharePath, body.uuid, 'logs', `${body.uuid}.log`), 'utf8');
    expect(log).toMatch(/Traceback \(most recent call last\):\n[\s\S]*ValueError: the model part\.stp is broken: no faces\n--- attempt 1 failed: the model part\.stp is broken: no faces\n/);
  });

  it('gets a fresh module in each job, in a reused process', async () => {
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push((await waitForEnd(stack, (await submit(stack, { script: fixture('counter.py') })).body.uuid)).result);
    expect(runs.map((r) => r.count)).toEqual([1, 1, 1]);
    // At least two of them ran in the same process (one process kept per queue): reuse is real.
    expect(Math.max(...runs.map((r) => r.process_jobs))).toBeGreaterThan(1);
  });

  it('leaves nothing of its process-wide changes to the next job (streams, alarms, threads), nor imports from a shared folder', async () => {
    const run = async (entrypoint: string, params: unknown = {}) =>
      waitForEnd(stack, (await submit(stack, { script: fixture('hazards.py'), config: { entrypoint }, params })).body.uuid);
    // The UTF-8 wrapper idiom, job after job: each one succeeds (its process is replaced after it).
    for (let i = 0; i < 3; i++) expect((await run('wrap_stdout')).status).toBe('SUCCESS');
    // An alarm armed by a failed job does not go off in the next one.
    expect((await run('alarm')).status).toBe('FAILURE');
    const after = await run('plain', { sleep: 1 });
    expect(after.status, JSON.stringify(after.error)).toBe('SUCCESS');
    expect(after.result.cwd_importable).toBe(false);
    // A thread left running (a daemon one too) retires its process: the next job runs in another.
    const left = await run('daemon');
    expect((await run('plain')).result.pid).not.toBe(left.result.pid);
  });

  it('that imports the Pixyz SDK where it is not installed fails saying so', async () => {
    const final = await waitForEnd(stack, (await submit(stack, { script: fixture('needs_pxz.py') })).body.uuid);
    expect(final.status).toBe('FAILURE');
    expect(final.error).toMatch(/The Pixyz SDK \(module 'pxz'\) is not installed in the Python that runs this script .*PIXYZ_PYTHON/);
  });

  it('is refused at submission when it does not parse, naming the line; its options are read statically', async () => {
    const broken = await submit(stack, { script: { name: 'broken.py', content: 'from pixyz_worker.script import *\n\ndef main(pc, params)\n    return 1\n' } });
    expect(broken.status).toBe(400);
    expect(JSON.stringify(broken.body)).toMatch(/The script does not parse: .*\(line 3, column \d+\)/);
    const missing = await submit(stack, { script: { name: 'none.py', content: 'x = 1\n' } });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body)).toMatch(/does not have the function main/);
    const limited = await submit(stack, { script: { name: 'limited.py', content: 'from pixyz_worker.script import *\n\n@pixyz_schedule(queue="gpu", time_limit=77)\ndef main(pc, params):\n    return pc["queue"], pc["time_limit"]\n' } });
    expect(limited.status, JSON.stringify(limited.body)).toBe(200);
    expect((await waitForEnd(stack, limited.body.uuid)).result).toEqual(['gpu', 77]);
  });
});

describe('Python processes', () => {
  it('are listed and documented by /processes from their docstrings', async () => {
    const list = (await (await stack.api('/processes')).json()) as { processes: string[] };
    expect(list.processes).toContain('file_checksum');
    const doc = (await (await stack.api('/processes/file_checksum')).json()) as { doc: string };
    expect(doc.doc).toMatch(/^Process 'file_checksum' documentation:\n\nThe size and digest of the uploaded file/);
    const { body } = await submit(stack, { process: 'file_checksum', file: { name: 'quad.obj', content: MODEL } });
    const final = await waitForEnd(stack, body.uuid);
    expect(final.result).toEqual({ name: 'quad.obj', bytes: MODEL.length, algorithm: 'sha256', digest: crypto.createHash('sha256').update(MODEL).digest('hex') });
    expect(await outputNames(stack, body.uuid)).toEqual(['checksum.json']);
    expect(await details(stack, body.uuid)).toMatchObject({ status: 'SUCCESS' });
  });
});
