// The upstream command-line client's requests (UPSTREAM-API.md §3), replayed over HTTP byte for
// byte where it matters: scripts written against upstream keep working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readScript, startStack, type Stack } from '../helpers/stack';
import { readZip } from '../helpers/zip';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

/** A multipart body as the client builds it: every part present, unset ones empty. */
function clientBody(parts: { name: string; value: string; filename?: string }[]): { body: Buffer; type: string } {
  const boundary = 'upstream-client-boundary';
  const chunks = parts.map((p) => {
    const disposition = p.filename === undefined ? `form-data; name="${p.name}"` : `form-data; name="${p.name}"; filename="${p.filename}"`;
    const type = p.filename === undefined ? '' : 'Content-Type: application/octet-stream\r\n';
    return `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n${p.value}\r\n`;
  });
  return { body: Buffer.from(`${chunks.join('')}--${boundary}--\r\n`), type: `multipart/form-data; boundary=${boundary}` };
}

async function post(parts: Parameters<typeof clientBody>[0]) {
  const { body, type } = clientBody(parts);
  const res = await fetch(`${stack.url}/jobs`, { method: 'POST', body, headers: { 'x-api-key': stack.key, 'content-type': type } });
  return { status: res.status, json: (await res.json()) as any };
}

/** `-w`: GET …/details about every second until the job ends, as the client's watch loop does. */
async function watch(id: string): Promise<any> {
  for (;;) {
    const d = (await (await stack.api(`/jobs/${id}/details`)).json()) as any;
    expect(['PENDING', 'STARTED', 'RUNNING', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED']).toContain(d.status);
    if (['SUCCESS', 'FAILURE', 'REVOKED'].includes(d.status)) return d;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('the upstream client', () => {
  it('exec -w: a custom script with unset name and file sent empty, then watched to SUCCESS', async () => {
    const { status, json } = await post([
      { name: 'process', value: 'custom' },
      { name: 'params', value: '{"steps": 2, "stepSeconds": 0.2}' },
      { name: 'config', value: '{"entrypoint": "main", "queue": null, "time_limit": 3600}' },
      { name: 'name', value: '' },
      { name: 'file', value: '', filename: '' },
      { name: 'script', value: readScript('scripts/tutorial/00_progress.ts'), filename: '00_progress.ts' },
    ]);
    expect(status).toBe(200);
    expect(json).toMatchObject({ name: null, status: 'SENT', progress: null, error: null });
    const done = await watch(json.uuid);
    // What the client prints: progress, status, and the step before last.
    expect(done).toMatchObject({ status: 'SUCCESS', progress: 100, error: null });
    expect(done.steps.at(-2).info).toBe('Sleeping for 0.2 seconds (step 1/2)');
    expect(done.time_info).toEqual({ request: expect.any(String), started: expect.any(String), stopped: expect.any(String) });
  });

  it('process -n sleep, status, list and the process doc', async () => {
    const processes = (await (await fetch(`${stack.url}/processes`)).json()) as { processes: string[] };
    expect(processes.processes).toContain('sleep');
    const { json } = await post([
      { name: 'process', value: 'sleep' },
      { name: 'params', value: '{"duration": 0.2}' },
      { name: 'config', value: '{"entrypoint": "main", "queue": null, "time_limit": 3600}' },
      { name: 'name', value: 'nap' },
      { name: 'file', value: '', filename: '' },
    ]);
    const done = await watch(json.uuid);
    expect(done).toMatchObject({ name: 'nap', status: 'SUCCESS', result: { sleep: 0.2 } });
  });

  it('download and download_all: a file by name, then the archive after 425s while it is built', async () => {
    const { json } = await post([
      { name: 'process', value: 'custom' },
      { name: 'params', value: '{"steps": 1, "stepSeconds": 1}' },
      { name: 'config', value: '{"entrypoint": "main", "queue": null, "time_limit": 3600}' },
      { name: 'name', value: '' },
      { name: 'file', value: 'v 0 0 0\n', filename: 'point.obj' },
      { name: 'script', value: readScript('scripts/tutorial/00_progress.ts'), filename: '00_progress.ts' },
    ]);
    const id = json.uuid as string;
    // download_all asks at once (and throws that answer away), then retries every second while 425.
    const first = await stack.api(`/jobs/${id}/outputs/archive`);
    expect(first.status).toBe(425);
    let archive: Response | undefined;
    for (let i = 0; i < 30; i++) {
      const res = await stack.api(`/jobs/${id}/outputs/archive`);
      if (res.status !== 425) {
        archive = res;
        break;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(archive?.status).toBe(200);
    const entries = await readZip(Buffer.from(await archive!.arrayBuffer()));
    expect([...entries.keys()].sort()).toEqual(['point.obj', 'report.json']);
    const file = await stack.api(`/jobs/${id}/outputs/point.obj`);
    expect(await file.text()).toBe('v 0 0 0\n');
    const outputs = (await (await stack.api(`/jobs/${id}/outputs`)).json()) as { outputs: string[] };
    expect(outputs.outputs).toEqual(['point.obj', 'report.json']);
  });
});
