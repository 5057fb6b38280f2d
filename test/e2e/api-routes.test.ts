// The routes beyond a single job's round trip: processes, cancel, delete, logs, listing.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../../src/api/server';
import { setUploadIdleMs, UPLOAD_IDLE_MS } from '../../src/api/upload';
import { eventually, isAlive, readScript, startStack, submit, waitForEnd, type Stack } from '../helpers/stack';

const fixture = (name: string) => ({ name, content: readScript(`test/fixtures/${name}`) });
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ MAX_UPLOAD_BYTES: '1M' });
});
afterAll(async () => {
  await stack?.stop();
});

describe('an upload over MAX_UPLOAD_BYTES', () => {
  it('is refused with 413 and leaves nothing behind, whether it says its size or not', async () => {
    const before = fs.readdirSync(stack.sharePath);
    // A script and a file each under the limit, together over it.
    const half = { name: 'half.ts', content: `export async function main() {}\n//${'x'.repeat(0.6 * 2 ** 20)}` };
    const together = await submit(stack, { script: half, file: { name: 'half.obj', content: Buffer.alloc(0.6 * 2 ** 20, 'v') } });
    expect(together.status).toBe(413);
    for (const size of [1.5 * 2 ** 20, 8 * 2 ** 20]) {
      const { status, body } = await submit(stack, { script: fixture('throws.ts'), file: { name: 'big.obj', content: Buffer.alloc(size, 'v') } });
      expect(status).toBe(413);
      expect(body.detail).toEqual({ code: 413, message: 'Payload Too Large', details: `The upload is over ${2 ** 20} bytes (MAX_UPLOAD_BYTES)` });
      await eventually(() => (fs.readdirSync(stack.sharePath).length === before.length ? true : undefined));
    }
  });
});

describe('a script that replaces its outputs/ with a link', () => {
  it('gets nothing served or archived from where the link points', async () => {
    const script = {
      name: 'swap.ts',
      content: `import fs from 'node:fs';
        export async function main(pc: any) {
          const out = pc.getOutputDir();
          fs.rmSync(out, { recursive: true });
          fs.symlinkSync('/etc', out);
        }`,
    };
    const { body } = await submit(stack, { script });
    const final = await waitForEnd(stack, body.uuid);
    expect(await (await stack.api(`/jobs/${body.uuid}/outputs`)).json()).toEqual({ outputs: [], files: [] });
    expect((await stack.api(`/jobs/${body.uuid}/outputs/hostname`)).status).toBe(404);
    expect(final.status).toBe('FAILURE');
    expect(final.error).toBe("the job's outputs/ was replaced by a link; nothing is archived");
  });
});

describe('predefined processes', () => {
  it('are listed, without a key, and documented from their doc comment', async () => {
    const list = await (await fetch(`${stack.url}/processes`)).json();
    expect(list).toEqual({ processes: ['api_test', 'convert_file', 'file_checksum', 'generate_metadata', 'generate_thumbnails', 'sleep', 'thumbnail_chained'] });
    const doc = (await (await fetch(`${stack.url}/processes/sleep`)).json()) as { doc: string };
    expect(doc.doc).toMatch(/^Process 'sleep' documentation:\n\nSleep for a while/);
    const bad = await fetch(`${stack.url}/processes/nope`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      detail: { code: 400, message: 'Bad Request', details: "Invalid process 'nope': the processes are api_test, convert_file, file_checksum, generate_metadata, generate_thumbnails, sleep, thumbnail_chained, or 'custom' with a script" },
    });
    expect((await fetch(`${stack.url}/processes/..%2Fconfig`)).status).toBe(400);
  });

  it('publish the params they declare, and refuse a submission that breaks them', async () => {
    const doc = (await (await fetch(`${stack.url}/processes/convert_file`)).json()) as { params: { type: string; properties: Record<string, { type: string; enum?: string[] }> } };
    expect(doc.params.type).toBe('object');
    expect(doc.params.properties.extension).toMatchObject({ type: 'string', enum: ['glb', 'gltf', 'obj', 'stl', 'ply'], default: 'glb' });
    const { status, body } = await submit(stack, { process: 'sleep', params: { duration: -1 } });
    expect(status).toBe(400);
    expect(body.detail.details).toBe("Invalid params for 'sleep': 'duration' must be at least 0, not -1");
    // A process that declares nothing takes any params, as upstream.
    expect(((await (await fetch(`${stack.url}/processes/api_test`)).json()) as { params?: unknown }).params).toBeUndefined();
  });

  it('run by name, as upstream: api_test echoes its params, sleep sleeps', async () => {
    const api = await submit(stack, { process: 'api_test', params: { hello: ['world'] } });
    const apiFinal = await waitForEnd(stack, api.body.uuid);
    expect(apiFinal).toMatchObject({ status: 'SUCCESS', result: { output: 'Hello World!', params: { hello: ['world'] } } });
    expect(apiFinal.steps.map((s: { info: string }) => s.info)).toEqual(['API tested successfully!']);
    const sleep = await submit(stack, { process: 'sleep', params: { duration: 0.3 } });
    const sleepFinal = await waitForEnd(stack, sleep.body.uuid);
    expect(sleepFinal).toMatchObject({ status: 'SUCCESS', result: { sleep: 0.3 } });
    expect(sleepFinal.steps[0].info).toBe('Sleeping for 0.3 seconds');
    expect(sleepFinal.steps[0].duration).toBeGreaterThanOrEqual(0.29);
  });
});

describe('POST /jobs/{id}/cancel', () => {
  it('revokes a running job and kills its script', async () => {
    const { body } = await submit(stack, { script: fixture('forever.ts') });
    const pidsFile = path.join(stack.sharePath, body.uuid, 'outputs', 'pids.json');
    const pids = await eventually(() => (fs.existsSync(pidsFile) ? JSON.parse(fs.readFileSync(pidsFile, 'utf8')) : undefined));
    const res = await stack.api(`/jobs/${body.uuid}/cancel`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ uuid: body.uuid, status: 'REVOKED' });
    expect(isAlive(pids.script) || isAlive(pids.child)).toBe(false);
    // Cancelling an ended job changes nothing.
    expect(await (await stack.api(`/jobs/${body.uuid}/cancel`, { method: 'POST' })).json()).toMatchObject({ status: 'REVOKED' });
    expect((await stack.api('/jobs/00000000-0000-4000-8000-000000000000/cancel', { method: 'POST' })).status).toBe(404);
  });
});

describe('DELETE /jobs/{id}', () => {
  it('removes an ended job’s directory, and cancels a running one first', async () => {
    const done = await submit(stack, { process: 'api_test' });
    await waitForEnd(stack, done.body.uuid);
    expect(fs.existsSync(path.join(stack.sharePath, done.body.uuid))).toBe(true);
    const res = await stack.api(`/jobs/${done.body.uuid}`, { method: 'DELETE' });
    expect(await res.json()).toMatchObject({ uuid: done.body.uuid, status: 'SUCCESS', deleted: true });
    expect(fs.existsSync(path.join(stack.sharePath, done.body.uuid))).toBe(false);
    expect(await (await stack.api(`/jobs/${done.body.uuid}/outputs`)).json()).toEqual({ outputs: [], files: [] });

    const running = await submit(stack, { script: fixture('forever.ts') });
    await eventually(() => (fs.existsSync(path.join(stack.sharePath, running.body.uuid, 'outputs', 'pids.json')) ? true : undefined));
    const del = await stack.api(`/jobs/${running.body.uuid}`, { method: 'DELETE' });
    expect(await del.json()).toMatchObject({ status: 'REVOKED', deleted: true });
    expect(fs.existsSync(path.join(stack.sharePath, running.body.uuid))).toBe(false);
  });
});

describe('GET /jobs/{id}/logs', () => {
  it('serves the script’s stdout and stderr, and streams them while it runs', async () => {
    const { body } = await submit(stack, { script: fixture('chatty.ts'), params: { lines: 4, every: 0.4 } });
    const followed = await (await stack.api(`/jobs/${body.uuid}/logs?follow=true`)).text();
    for (let i = 1; i <= 4; i++) expect(followed).toContain(`line ${i} of 4`);
    expect((await waitForEnd(stack, body.uuid)).status).toBe('SUCCESS');
    const whole = await (await stack.api(`/jobs/${body.uuid}/logs`)).text();
    expect(whole).toMatch(/attempt 1 on .*cpu\n/);
    expect(whole).toContain('line 4 of 4');
    // The last line tells what the script process used: what a worker host must be sized for.
    const usage = /--- script process: peak RSS (\d+) MiB, CPU (\d+\.\d+) s\n$/.exec(whole);
    expect(usage).not.toBeNull();
    expect(Number(usage![1])).toBeGreaterThan(20); // a Node process with tsx is never smaller
    expect(Number(usage![1])).toBeLessThan(2048);
  });
});

describe('GET /jobs', () => {
  it('lists jobs from Temporal, filtered by name and status, paged, sub-tasks on request', async () => {
    const name = `list-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await submit(stack, { process: 'api_test', name })).body.uuid);
    const parent = (await submit(stack, { script: fixture('chatty.ts'), name, config: { entrypoint: 'withChild' } })).body.uuid;
    ids.push(parent);
    for (const id of ids) await waitForEnd(stack, id);

    const listed = await eventually(async () => {
      const r = (await (await stack.api(`/jobs?name=${name}&status=SUCCESS`)).json()) as { jobs: { uuid: string }[] };
      return r.jobs.length === 4 ? r : undefined;
    });
    expect(listed.jobs.map((j) => j.uuid).sort()).toEqual([...ids].sort());
    expect(listed.jobs.find((j) => j.uuid === ids[0])).toMatchObject({ name, status: 'SUCCESS', progress: 100, error: null, process: 'api_test' });
    expect(listed.jobs.find((j) => j.uuid === parent)).toMatchObject({ process: 'chatty.ts' });
    // Name and process filter by prefix, as a user types them.
    const byPrefix = (await (await stack.api(`/jobs?name=${name.slice(0, -2)}&process=api_&status=SUCCESS`)).json()) as { jobs: { uuid: string }[] };
    expect(byPrefix.jobs.map((j) => j.uuid).sort()).toEqual(ids.slice(0, 3).sort());

    const first = (await (await stack.api(`/jobs?name=${name}&limit=3`)).json()) as { jobs: unknown[]; next: string };
    expect(first.jobs).toHaveLength(3);
    expect(first.next).toEqual(expect.any(String));
    const second = (await (await stack.api(`/jobs?name=${name}&limit=3&next=${first.next}`)).json()) as { jobs: unknown[]; next: string | null };
    expect(second.jobs).toHaveLength(1);

    const all = await eventually(async () => {
      const r = (await (await stack.api(`/jobs?name=${name}&all=true`)).json()) as { jobs: { uuid: string }[] };
      return r.jobs.length === 5 ? r : undefined;
    });
    expect(all.jobs).toHaveLength(5);
    expect((await (await stack.api(`/jobs?name=${name}&status=FAILURE`)).json())).toEqual({ jobs: [], next: null });

    // A failed job is listed with the error and progress its own page shows.
    const failed = (await submit(stack, { script: fixture('throws.ts'), name })).body.uuid;
    await waitForEnd(stack, failed);
    const own = (await (await stack.api(`/jobs/${failed}`)).json()) as Record<string, unknown>;
    expect(own).toMatchObject({ status: 'FAILURE', progress: 0, error: 'the model is broken: no faces' });
    const failures = await eventually(async () => {
      const r = (await (await stack.api(`/jobs?name=${name}&status=FAILURE`)).json()) as { jobs: unknown[] };
      return r.jobs.length === 1 ? r : undefined;
    });
    // The list shows what its own page shows, and beyond it what it ran and when.
    expect(failures).toEqual({ jobs: [{ ...own, process: 'throws.ts', time_request: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+$/) }], next: null });
    expect((await stack.api('/jobs?status=LOST')).status).toBe(400);
    expect((await stack.api('/jobs?limit=0')).status).toBe(400);
  });
});

describe('POST /jobs/{id}/rerun', () => {
  it('runs a job again as a new one, with its params, options, name and a copy of its inputs', async () => {
    const first = (await submit(stack, { script: fixture('outputs.ts'), params: { times: 2 }, name: 'again', file: { name: 'modèle.obj', content: 'v 0 0 0\n' } })).body.uuid;
    const before = await waitForEnd(stack, first);
    const res = await stack.api(`/jobs/${first}/rerun`, { method: 'POST' });
    expect(res.status).toBe(200);
    const second = ((await res.json()) as { uuid: string; status: string }).uuid;
    expect(second).not.toBe(first);
    const after = await waitForEnd(stack, second);
    expect(after).toMatchObject({ status: before.status, name: 'again' });
    expect(fs.readdirSync(path.join(stack.sharePath, second, 'inputs')).sort()).toEqual(fs.readdirSync(path.join(stack.sharePath, first, 'inputs')).sort());
    expect(fs.readdirSync(path.join(stack.sharePath, second, 'outputs')).sort()).toEqual(fs.readdirSync(path.join(stack.sharePath, first, 'outputs')).sort());
    // The first job is untouched, and the new one's files are its own.
    // (A name beyond ASCII is kept as sent: UTF-8, not read as latin1.)
    expect(fs.readdirSync(path.join(stack.sharePath, first, 'inputs'))).toContain('modèle.obj');
    expect((await stack.api('/jobs/00000000-0000-4000-8000-000000000000/rerun', { method: 'POST' })).status).toBe(404);
  });
});

describe('two deployments on one Temporal namespace (another TASK_QUEUE_PREFIX)', () => {
  it('stay apart: each lists, reads and cancels only its own jobs', async () => {
    const name = `apart-${Date.now()}`;
    const mine = (await submit(stack, { process: 'api_test', name })).body.uuid;
    await waitForEnd(stack, mine);
    // The other deployment's API, on the same server and namespace, its own share and prefix.
    const otherShare = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-other-'));
    const other = await listen({ config: { ...stack.config, taskQueuePrefix: `other-${Date.now()}-`, sharePath: otherShare }, client: stack.client, log: pino({ level: 'silent' }) }, 0);
    try {
      const ask = (p: string, init: RequestInit = {}) => fetch(`${other.url}${p}`, { ...init, headers: { 'x-api-key': stack.key } });
      expect((await (await ask(`/jobs?name=${name}&all=true`)).json())).toEqual({ jobs: [], next: null });
      for (const route of [`/jobs/${mine}`, `/jobs/${mine}/details`, `/jobs/${mine}/logs`]) expect((await ask(route)).status, route).toBe(404);
      expect((await ask(`/jobs/${mine}/cancel`, { method: 'POST' })).status).toBe(404);
      // Its own deployment still sees it.
      const listed = await eventually(async () => {
        const r = (await (await stack.api(`/jobs?name=${name}`)).json()) as { jobs: { uuid: string }[] };
        return r.jobs.length === 1 ? r : undefined;
      });
      expect(listed.jobs[0]!.uuid).toBe(mine);
    } finally {
      await other.close();
      fs.rmSync(otherShare, { recursive: true, force: true });
    }
  });
});

describe('downloads', () => {
  let id: string;
  beforeAll(async () => {
    id = (await submit(stack, { script: fixture('outputs.ts') })).body.uuid;
    expect((await waitForEnd(stack, id)).status).toBe('SUCCESS');
  });

  it('keep names beyond ASCII (RFC 6266) and nested paths', async () => {
    const res = await stack.api(`/jobs/${id}/outputs/${encodeURIComponent('modèle 3D.obj')}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="mod_le 3D.obj"; filename*=UTF-8''mod%C3%A8le%203D.obj`);
    expect(await (await stack.api(`/jobs/${id}/outputs/nested/part.txt`)).text()).toBe('inner');
  });

  it('serve ranges of large files', async () => {
    const res = await stack.api(`/jobs/${id}/outputs/big.bin`, { headers: { Range: 'bytes=1000-1009' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 1000-1009/100000');
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual(Array.from({ length: 10 }, (_, i) => (1000 + i) % 251));
    const whole = await stack.api(`/jobs/${id}/outputs/big.bin`);
    expect(whole.headers.get('content-length')).toBe('100000');
  });

  it('refuse every way out of outputs/: encoded, double-encoded, NUL bytes, planted links', async () => {
    for (const attempt of ['..%2Finputs%2Foutputs.ts', '%2e%2e%2F%2e%2e%2Fetc%2Fpasswd', 'nested%2F..%2F..%2Flogs', '..%252Finputs', 'big.bin%00.txt', 'planted']) {
      const res = await stack.api(`/jobs/${id}/outputs/${attempt}`);
      expect([400, 404], attempt).toContain(res.status);
      const text = await res.text();
      expect(text, attempt).not.toContain(fs.readFileSync('/etc/hostname', 'utf8').trim() || 'never');
    }
    expect((await stack.api(`/jobs/${id}/outputs/planted`)).status).toBe(400);
  });
});

describe('upstream’s other routes', () => {
  it('/metrics: HTTP metrics by route template, and jobs by status', async () => {
    await waitForEnd(stack, (await submit(stack, { process: 'api_test' })).body.uuid);
    await stack.api('/jobs/00000000-0000-4000-8000-000000000000');
    const text = await (await fetch(`${stack.url}/metrics`)).text();
    expect(text).toMatch(/http_requests_total\{method="GET",status="4xx",handler="\/jobs\/\{id\}"\} \d+/);
    expect(text).toMatch(/pixyz_jobs_submitted_total\{process="api_test"\} \d+/);
    expect(text).toMatch(/pixyz_jobs\{status="SUCCESS"\} \d+/);
    expect(text).toMatch(/pixyz_jobs_finished_total\{process="api_test",status="SUCCESS"\} [1-9]\d*/);
    expect(text).toMatch(/pixyz_job_duration_seconds_count\{process="api_test",status="SUCCESS"\} [1-9]\d*/);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('/dev/callback takes any JSON object and answers null', async () => {
    const ok = await fetch(`${stack.url}/dev/callback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('null');
    const bad = await fetch(`${stack.url}/dev/callback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1]' });
    expect(bad.status).toBe(400);
  });

  it('/backend/get_task_meta gives the raw meta, PENDING for an unknown id', async () => {
    const { body } = await submit(stack, { process: 'api_test', params: { x: 1 } });
    await waitForEnd(stack, body.uuid);
    const meta = await (await stack.api(`/backend/get_task_meta/${body.uuid}`)).json();
    expect(meta).toMatchObject({ status: 'SUCCESS', result: { output: 'Hello World!', params: { x: 1 } }, traceback: null, children: [], parent_id: null, task_id: body.uuid });
    const unknown = await (await stack.api('/backend/get_task_meta/00000000-0000-4000-8000-000000000000')).json();
    expect(unknown).toEqual({ status: 'PENDING', result: null, traceback: null, children: [], parent_id: null, task_id: '00000000-0000-4000-8000-000000000000', date_done: null });
    expect((await fetch(`${stack.url}/backend/get_task_meta/${body.uuid}`)).status).toBe(401);
  });

  it('answers CORS as upstream: any origin, with credentials; unknown routes as FastAPI does', async () => {
    const pre = await fetch(`${stack.url}/jobs`, { method: 'OPTIONS', headers: { Origin: 'http://viewer.local', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'x-api-key' } });
    expect(pre.status).toBe(200);
    expect(pre.headers.get('access-control-allow-origin')).toBe('http://viewer.local');
    expect(pre.headers.get('access-control-allow-credentials')).toBe('true');
    expect(pre.headers.get('access-control-allow-headers')).toBe('x-api-key');
    const unknown = await fetch(`${stack.url}/nothing/here`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ detail: 'Not Found' });
  });

  it('redirects a trailing slash with 307, as upstream, never to another host', async () => {
    const res = await stack.api('/jobs/?limit=1', { redirect: 'manual' });
    expect(res.status).toBe(307);
    expect(res.headers.get('location')).toBe('/jobs?limit=1');
    const sneaky = await fetch(`${stack.url}//evil.example/`, { redirect: 'manual' });
    expect(sneaky.headers.get('location')).toBe('/evil.example');
  });
});

describe('a job Temporal has forgotten', () => {
  it('is still answered from the state.json it wrote when it ended', async () => {
    const done = (await submit(stack, { process: 'api_test', params: { keep: 1 }, name: 'remembered' })).body.uuid;
    const broken = (await submit(stack, { script: fixture('throws.ts') })).body.uuid;
    const live = [await waitForEnd(stack, done), await waitForEnd(stack, broken)];
    // What remains of a job once its history has expired (JOB_RETENTION): its directory. Each
    // finished job's directory, copied under an id Temporal never knew (deleting a workflow takes
    // the dev server ~20 s, as expiry would).
    const [ok, bad] = [crypto.randomUUID(), crypto.randomUUID()];
    for (const [from, to] of [[done, ok], [broken, bad]] as const) {
      fs.cpSync(path.join(stack.sharePath, from), path.join(stack.sharePath, to), { recursive: true });
      const file = path.join(stack.sharePath, to, 'state.json');
      const state = JSON.parse(fs.readFileSync(file, 'utf8'));
      expect(state.jobId).toBe(from);
      fs.writeFileSync(file, JSON.stringify({ ...state, jobId: to }));
      // Files named after the job (its log, its archive) take the new id.
      for (const entry of fs.readdirSync(path.join(stack.sharePath, to), { recursive: true }) as string[]) {
        if (path.basename(entry).includes(from)) {
          const at = path.join(stack.sharePath, to, entry);
          fs.renameSync(at, path.join(path.dirname(at), path.basename(entry).replace(from, to)));
        }
      }
      await expect(stack.client.workflow.getHandle(to).describe()).rejects.toThrow(/not found/i);
    }
    const remembered = (await (await stack.api(`/jobs/${ok}/details`)).json()) as any;
    expect(remembered).toMatchObject({ uuid: ok, name: 'remembered', status: 'SUCCESS', progress: 100, result: { output: 'Hello World!', params: { keep: 1 } } });
    expect(remembered.steps).toEqual(live[0].steps);
    expect(await (await stack.api(`/jobs/${ok}/logs`)).text()).toMatch(/attempt 1/);
    const failed = await (await stack.api(`/jobs/${bad}`)).json();
    expect(failed).toEqual({ uuid: bad, name: null, status: 'FAILURE', progress: 0, error: 'the model is broken: no faces' });
    expect((await stack.api(`/jobs/${ok}/outputs/archive`)).status).toBe(200);
    // …and deleted through the API, though Temporal does not know it.
    expect(await (await stack.api(`/jobs/${ok}`, { method: 'DELETE' })).json()).toMatchObject({ status: 'SUCCESS', deleted: true });
    expect(fs.existsSync(path.join(stack.sharePath, ok))).toBe(false);
    expect((await stack.api(`/jobs/${ok}`)).status).toBe(404);
  });
});

describe('the dashboard’s files', () => {
  it('are served gzipped to a browser that takes it, plain to one that does not', async () => {
    const zipped = await fetch(`${stack.url}/ui`, { headers: { 'accept-encoding': 'gzip' } });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(zipped.headers.get('vary')).toMatch(/Accept-Encoding/i);
    const page = await zipped.text(); // fetch unzips it
    const script = /src="\/ui\/([^"]+\.js)"/.exec(page)![1]!;
    const wire = Number((await fetch(`${stack.url}/ui/${script}`, { headers: { 'accept-encoding': 'gzip' }, method: 'HEAD' })).headers.get('content-length'));
    const plain = await fetch(`${stack.url}/ui/${script}`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers.get('content-encoding')).toBeNull();
    const body = await plain.arrayBuffer();
    expect(wire).toBeGreaterThan(0);
    expect(wire).toBeLessThan(body.byteLength / 2);
  });
});

describe('an upload in progress', () => {
  /** Starts a multipart POST /jobs by hand: its script part, then the first bytes of a model; `rest` sends the remainder. */
  const startUpload = (url: string) => {
    const boundary = `b${crypto.randomUUID()}`;
    const head =
      `--${boundary}\r\nContent-Disposition: form-data; name="script"; filename="up.ts"\r\n\r\nexport function main() { return 1; }\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.obj"\r\n\r\n`;
    const tail = `\r\n--${boundary}--\r\n`;
    const model = Buffer.alloc(256 * 1024, 'v 0 0 0\n');
    const req = http.request(`${url}/jobs`, { method: 'POST', headers: { 'x-api-key': stack.key, 'content-type': `multipart/form-data; boundary=${boundary}` } });
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
    });
    req.write(head);
    req.write(model.subarray(0, model.length / 2));
    return { answer, rest: () => req.end(Buffer.concat([model.subarray(model.length / 2), Buffer.from(tail)])) };
  };

  it('finishes when the API stops meanwhile (event streams are cut at once), and one that stalls is dropped', async () => {
    const api = await listen({ config: stack.config, client: stack.client, log: pino({ level: 'silent' }) }, 0);
    const upload = startUpload(api.url);
    const running = (await submit(stack, { process: 'sleep', params: { duration: 30 } })).body.uuid;
    const stream = await fetch(`${api.url}/jobs/${running}/events`, { headers: { 'x-api-key': stack.key } });
    const streamEnded = stream.text().then(() => 'ended', () => 'cut');
    await new Promise((r) => setTimeout(r, 200));
    let stopped = false;
    const closing = api.close().then(() => (stopped = true));
    await streamEnded; // at once, not when its job ends in 30 s:
    expect(((await (await stack.api(`/jobs/${running}`)).json()) as { status: string }).status).not.toMatch(/SUCCESS|FAILURE|REVOKED/);
    await new Promise((r) => setTimeout(r, 300));
    expect(stopped).toBe(false); // it waits for the upload
    upload.rest();
    const { status, body } = await upload.answer;
    expect(status).toBe(200);
    expect(JSON.parse(body)).toMatchObject({ status: 'SENT' });
    await closing;
    await stack.api(`/jobs/${running}/cancel`, { method: 'POST' });

    // An upload that sends nothing more is dropped after UPLOAD_IDLE_MS, leaving no directory.
    const share = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-stall-'));
    setUploadIdleMs(500);
    const other = await listen({ config: { ...stack.config, sharePath: share }, client: stack.client, log: pino({ level: 'silent' }) }, 0);
    try {
      const stalled = startUpload(other.url);
      await expect(stalled.answer).rejects.toThrow(/socket hang up|ECONNRESET/);
      await eventually(async () => (fs.readdirSync(share).length === 0 ? true : undefined));
    } finally {
      setUploadIdleMs(UPLOAD_IDLE_MS);
      await other.close();
      fs.rmSync(share, { recursive: true, force: true });
    }
  });
});
