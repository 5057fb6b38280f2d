// A user's round trip over HTTP: submit the progress tutorial with a model file, watch its
// progress while it runs, download its outputs and their zip, find it in Temporal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_NAME, JOB_PROCESS, JOB_STATUS } from '../../src/shared/search-attributes';
import { statusQuery } from '../../src/shared/definitions';
import fs from 'node:fs';
import path from 'node:path';
import { pixyzExecute } from '../../src/sdk';
import { details, eventually, readScript, REPO, startStack, submit, waitForEnd, type Stack } from '../helpers/stack';
import { readZip } from '../helpers/zip';

const MODEL = 'v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('a job submitted over HTTP', () => {
  let jobId: string;
  const readings: any[] = [];

  it('is accepted with upstream’s SENT reply', async () => {
    const { status, body } = await submit(stack, {
      script: { name: '00_progress.ts', content: readScript('scripts/tutorial/00_progress.ts') },
      file: { name: 'triangle.obj', content: MODEL },
      params: { steps: 3, stepSeconds: 1.5 },
      name: 'roundtrip',
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({ name: 'roundtrip', status: 'SENT', progress: null, error: null });
    expect(body.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    jobId = body.uuid;
  });

  it('shows its progress and current step while the script runs', async () => {
    const final = await waitForEnd(stack, jobId, (d) => readings.push(d));
    const running = readings.filter((d) => d.status === 'RUNNING');
    // Steps of 1.5 s polled every ~150 ms: each one must have been seen while it ran.
    const seenSteps = new Set(running.flatMap((d) => d.steps.filter((s: any) => s.duration === -1).map((s: any) => s.info)));
    expect(seenSteps).toEqual(
      new Set([1, 2, 3].map((i) => `Sleeping for 1.5 seconds (step ${i}/3)`)),
    );
    const percents = running.map((d) => d.progress);
    expect(percents).toContain(33);
    expect(percents).toContain(66);
    expect(percents).toEqual([...percents].sort((a, b) => a - b)); // never goes back

    expect(final.status).toBe('SUCCESS');
    expect(final.progress).toBe(100);
    expect(final.error).toBeNull();
    expect(final.result).toEqual({ steps: 3, input: { name: 'triangle.obj', bytes: MODEL.length } });
    expect(final.steps).toHaveLength(3);
    for (const step of final.steps) expect(step.duration).toBeGreaterThan(1.4);
    expect(final.time_info.request).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    expect(final.time_info.started).toMatch(/\+00:00$/);
    expect(Date.parse(final.time_info.stopped)).toBeGreaterThan(Date.parse(final.time_info.started));
  });

  it('answers GET /jobs/{id} with upstream’s JobState', async () => {
    const res = await stack.api(`/jobs/${jobId}`);
    expect(await res.json()).toEqual({ uuid: jobId, name: 'roundtrip', status: 'SUCCESS', progress: 100, error: null });
  });

  it('lists and serves its outputs', async () => {
    const list = await (await stack.api(`/jobs/${jobId}/outputs`)).json();
    const sizes = Object.fromEntries(['report.json', 'triangle.obj'].map((n) => [n, fs.statSync(path.join(stack.sharePath, jobId, 'outputs', n)).size]));
    expect(list).toEqual({ outputs: ['report.json', 'triangle.obj'], files: [{ name: 'report.json', bytes: sizes['report.json'] }, { name: 'triangle.obj', bytes: MODEL.length }] });

    const file = await stack.api(`/jobs/${jobId}/outputs/triangle.obj`);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('application/octet-stream');
    expect(file.headers.get('content-disposition')).toBe('attachment; filename="triangle.obj"');
    expect(await file.text()).toBe(MODEL);

    const report = JSON.parse(await (await stack.api(`/jobs/${jobId}/outputs/report.json`)).text());
    expect(report.input).toEqual({ name: 'triangle.obj', bytes: MODEL.length });
  });

  it('serves a zip of exactly its outputs', async () => {
    const res = await stack.api(`/jobs/${jobId}/outputs/archive`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${jobId}.zip"`);
    const entries = await readZip(Buffer.from(await res.arrayBuffer()));
    expect([...entries.keys()].sort()).toEqual(['report.json', 'triangle.obj']);
    expect(entries.get('triangle.obj')!.toString()).toBe(MODEL);
  });

  it('refuses paths that leave outputs/ and answers 404 for missing files', async () => {
    const escape = await stack.api(`/jobs/${jobId}/outputs/..%2Finputs%2F00_progress.ts`);
    expect(escape.status).toBe(400);
    expect(((await escape.json()) as any).detail.details).toMatch(/^SharePathInvalidError/);
    const missing = await stack.api(`/jobs/${jobId}/outputs/nope.glb`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      detail: { code: 404, message: 'Not Found', details: "SharePathNotFoundError: File 'outputs/nope.glb' not found" },
    });
  });

  it('is a workflow in Temporal under the job id, with its search attributes', async () => {
    const desc = await stack.client.workflow.getHandle(jobId).describe();
    expect(desc.type).toBe('pixyzJob');
    expect(desc.status.name).toBe('COMPLETED');
    expect(desc.taskQueue).toBe(`${stack.config.taskQueuePrefix}control`);
    expect(desc.typedSearchAttributes.get(JOB_NAME)).toBe('roundtrip');
    expect(desc.typedSearchAttributes.get(JOB_PROCESS)).toBe('00_progress.ts');
    // PixyzStatus is a running job's phase, left as it last was (it ran over a second and wrote
    // outputs: RUNNING); a finished job's status is Temporal's own.
    expect(desc.typedSearchAttributes.get(JOB_STATUS)).toBe('RUNNING');
    // …and can be found by them, as in the Temporal UI (visibility lags a little).
    const found = await eventually(async () => {
      const ids: string[] = [];
      for await (const wf of stack.client.workflow.list({ query: `PixyzJobName = "roundtrip" AND ExecutionStatus = "Completed"` })) {
        ids.push(wf.workflowId);
      }
      return ids.includes(jobId) ? ids : undefined;
    });
    expect(found).toContain(jobId);
  });
});

describe('the job workflow', () => {
  it('answers its status query', async () => {
    const { body } = await submit(stack, { script: { name: '00_sleep.ts', content: readScript('scripts/tutorial/00_sleep.ts') } });
    const final = await waitForEnd(stack, body.uuid);
    // upstream's 00_sleep: no result, no steps
    expect(final).toMatchObject({ status: 'SUCCESS', progress: 100, result: null, steps: [] });
    const status = await stack.client.workflow.getHandle(body.uuid).query(statusQuery);
    expect(status).toEqual({ status: 'SUCCESS', phase: 'done', children: { started: 0, done: 0, failed: 0 } });
  });
});

describe('pixyzExecute', () => {
  it('starts a job from TypeScript code and returns an AsyncResult to wait on', async () => {
    const result = await pixyzExecute<{ steps: number }>({
      url: stack.url,
      apiKey: stack.key,
      script: path.join(REPO, 'scripts/tutorial/00_progress.ts'),
      params: { steps: 1, stepSeconds: 0.1 },
      name: 'from-code',
      pollIntervalMs: 100,
    });
    expect(result.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await result.get({ timeout: 30 })).toEqual({ steps: 1, input: null });
    expect(await result.ready()).toBe(true);
    expect(await result.state()).toBe('SUCCESS');
  });

  it('makes get() throw the job’s error, and refuses a bad submission at once', async () => {
    const failing = await pixyzExecute({ url: stack.url, apiKey: stack.key, script: path.join(REPO, 'test/fixtures/throws.ts'), pollIntervalMs: 100 });
    await expect(failing.get()).rejects.toThrow('the model is broken: no faces');
    await expect(pixyzExecute({ url: stack.url, apiKey: stack.key })).rejects.toThrow("POST /jobs: 400 'custom' process requires a 'script' file");
    await expect(pixyzExecute({ url: stack.url, apiKey: 'wrong', script: path.join(REPO, 'test/fixtures/throws.ts') })).rejects.toThrow(/POST \/jobs: 401 Invalid token: send the API key in the x-api-key header \(npm start keeps the key it generated in \.temporal\/api-key/);
  });
});

describe('the API key', () => {
  it('refuses a missing or wrong key, as upstream', async () => {
    for (const headers of [{}, { 'x-api-key': 'wrong' }, { 'x-api-key': `Bearer ${stack.key}` }] as Record<string, string>[]) {
      const res = await fetch(`${stack.url}/jobs/00000000-0000-4000-8000-000000000000`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('x-api-key');
      expect(await res.json()).toEqual({ detail: expect.stringMatching(/^Invalid token: .*\.temporal\/api-key/) });
    }
    const post = await fetch(`${stack.url}/jobs`, { method: 'POST', body: new FormData() });
    expect(post.status).toBe(401);
  });

  it('leaves GET / open', async () => {
    const res = await fetch(`${stack.url}/`);
    expect(await res.text()).toBe('Welcome to PiXYZ API v1.0.7!');
  });
});

describe('job ids', () => {
  it('answers 400 for a malformed id and 404 for an unknown one', async () => {
    const bad = await stack.api('/jobs/not-a-uuid');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).detail.details).toMatch(/Invalid job id/);
    const unknown = await stack.api('/jobs/00000000-0000-4000-8000-000000000000/details');
    expect(unknown.status).toBe(404);
  });

  it('answers 425 for the archive of a job that is still running', async () => {
    const { body } = await submit(stack, {
      script: { name: 'slow.ts', content: readScript('scripts/tutorial/00_progress.ts') },
      params: { steps: 1, stepSeconds: 3 },
    });
    const res = await stack.api(`/jobs/${body.uuid}/outputs/archive`);
    expect(res.status).toBe(425);
    expect(((await res.json()) as any).detail.details).toBe(`TaskNotCompletedError: Job '${body.uuid}' is not finished yet`);
    expect((await waitForEnd(stack, body.uuid)).status).toBe('SUCCESS');
    expect((await stack.api(`/jobs/${body.uuid}/outputs/archive`)).status).toBe(200);
    expect((await details(stack, body.uuid)).result).toEqual({ steps: 1, input: null });
  });
});
