// Faults: the API process killed with SIGKILL in the middle of an upload. Nothing is registered
// half-way (no job), and once the API is back, the directory the upload left is gone as soon as
// it is a minute old.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster';
import { eventually, jobForm, waitForEnd } from '../helpers/stack';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster?.stop();
});

/** Starts a multipart upload of a script and a large file, and sends the file slowly, never finishing. */
function startSlowUpload(): http.ClientRequest {
  const boundary = 'fault-boundary';
  const url = new URL(`${cluster.url}/jobs`);
  const req = http.request({
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: 'POST',
    headers: { 'x-api-key': cluster.key, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': 50 * 2 ** 20 },
  });
  req.on('error', () => {}); // the API dies under it
  req.write(`--${boundary}\r\nContent-Disposition: form-data; name="script"; filename="s.ts"\r\n\r\nexport async function main() { return 1; }\r\n`);
  req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.obj"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const chunk = Buffer.alloc(64 * 1024, 'v 0 0 0\n');
  const timer = setInterval(() => req.write(chunk), 20);
  req.on('close', () => clearInterval(timer));
  return req;
}

describe('the API killed with SIGKILL mid-upload', () => {
  it('registers nothing, and leaves no directory once it is back and the upload is a minute old', async () => {
    const before = new Set(fs.readdirSync(cluster.sharePath));
    const upload = startSlowUpload();
    const dir = await eventually(() => {
      const fresh = fs.readdirSync(cluster.sharePath).filter((d) => !before.has(d));
      return fresh.length === 1 && fs.existsSync(path.join(cluster.sharePath, fresh[0]!, 'inputs', 'big.obj')) ? fresh[0]! : undefined;
    }, 20_000, 20);
    await eventually(() => (fs.statSync(path.join(cluster.sharePath, dir, 'inputs', 'big.obj')).size > 256 * 1024 ? true : undefined));
    await cluster.killApi();
    upload.destroy();
    // No job was started for it.
    await expect(cluster.client.workflow.getHandle(dir).describe()).rejects.toThrow(/not found/i);

    // The API comes back; a job starts and runs.
    await cluster.startApi();
    const res = await cluster.api('/jobs', {
      method: 'POST',
      body: jobForm({ script: { name: 'slow.ts', content: 'export async function main() { await new Promise((r) => setTimeout(r, 5000)); return 1; }' } }),
    });
    const running = ((await res.json()) as { uuid: string }).uuid;
    await eventually(async () => (['STARTED', 'RUNNING'].includes(((await (await cluster.api(`/jobs/${running}`)).json()) as { status: string }).status) ? true : undefined));
    // A minute passes (every write in both directories is dated back) and the API restarts: the
    // upload's directory goes, the running job's stays.
    const old = new Date(Date.now() - 2 * 60_000);
    for (const id of [dir, running]) {
      const root = path.join(cluster.sharePath, id);
      for (const p of [path.join(root, 'inputs', 'big.obj'), path.join(root, 'inputs', 's.ts'), path.join(root, 'inputs', 'slow.ts'), path.join(root, 'inputs'), root]) {
        if (fs.existsSync(p)) fs.utimesSync(p, old, old);
      }
    }
    await cluster.killApi();
    await cluster.startApi();
    await eventually(() => (fs.existsSync(path.join(cluster.sharePath, dir)) ? undefined : true), 10_000, 100);
    expect(fs.existsSync(path.join(cluster.sharePath, running))).toBe(true);
    expect((await waitForEnd(cluster, running)).status).toBe('SUCCESS');
    console.log('fault: API SIGKILL mid-upload — nothing registered; the upload’s directory removed at the API’s restart once a minute old');
  }, 90_000);
});
