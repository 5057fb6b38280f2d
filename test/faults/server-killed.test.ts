// Faults: the Temporal server killed with SIGKILL in the middle of jobs, then started again on
// its database file. Jobs resume and end SUCCESS; while the server is away, the API answers 503
// with a clear message, quickly (not 500, not a hang), and a refused upload leaves nothing.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster';
import { eventually, jobForm, readScript, waitForEnd } from '../helpers/stack';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ CONCURRENT_TASKS: '4' });
});
afterAll(async () => {
  await cluster?.stop();
});

const SLOW = { name: 'slow.ts', content: 'export async function main() { await new Promise((r) => setTimeout(r, 4000)); return { slept: 4 }; }' };

describe('the Temporal server killed with SIGKILL mid-job', () => {
  it('loses no job, and the API answers 503 while it is away', async () => {
    const post = (script: { name: string; content: string }) => cluster.api('/jobs', { method: 'POST', body: jobForm({ script }) });
    const slow = ((await (await post(SLOW)).json()) as { uuid: string }).uuid;
    const fanOut = ((await (await post({ name: 'parts.ts', content: readScript('test/fixtures/faults/parts.ts') })).json()) as { uuid: string }).uuid;
    await eventually(async () => {
      const d = (await (await cluster.api(`/jobs/${slow}`)).json()) as { status: string };
      return ['STARTED', 'RUNNING'].includes(d.status) ? true : undefined;
    }, 30_000, 50);

    const killedAt = Date.now();
    await cluster.killServer();
    const before = new Set(fs.readdirSync(cluster.sharePath));
    const t0 = Date.now();
    const refused = await post(SLOW);
    const refusedIn = (Date.now() - t0) / 1000;
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/Temporal is not reachable/);
    expect(refusedIn).toBeLessThan(15);
    expect(fs.readdirSync(cluster.sharePath).filter((d) => !before.has(d))).toEqual([]); // nothing left by the refused upload
    const status = await cluster.api(`/jobs/${slow}`);
    expect(status.status).toBe(503);
    // An orchestrator's probes: the API is alive, not ready.
    expect((await cluster.api('/livez')).status).toBe(200);
    const ready = await cluster.api('/readyz');
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { detail: string }).detail).toMatch(/^Temporal does not answer: /);

    await cluster.startServer();
    const restartedAt = Date.now();
    // The API answers again within seconds of the server's return.
    await eventually(async () => ((await cluster.api(`/jobs/${slow}`)).status === 200 ? true : undefined), 10_000, 100);
    const backIn = (Date.now() - restartedAt) / 1000;
    expect((await cluster.api('/readyz')).status).toBe(200);
    const ends = await Promise.all([slow, fanOut].map((id) => waitForEnd(cluster, id, () => {}, 120_000)));
    expect(ends.map((d) => d.status), JSON.stringify(ends.map((d) => d.error))).toEqual(['SUCCESS', 'SUCCESS']);
    expect(ends[0].result).toEqual({ slept: 4 });
    expect(ends[1].result).toEqual([1, 2, 3]);
    expect(fs.readdirSync(path.join(cluster.sharePath, fanOut, 'outputs')).sort()).toEqual(['part-1.txt', 'part-2.txt', 'part-3.txt']);
    console.log(
      `fault: Temporal server SIGKILL mid-job — 2 jobs, lost 0; POST /jobs meanwhile: 503 in ${refusedIn.toFixed(1)} s; ` +
        `API answering again ${backIn.toFixed(1)} s after the restart; recovery (restart → all jobs ended) ${((Date.now() - restartedAt) / 1000).toFixed(1)} s (server away ${((restartedAt - killedAt) / 1000).toFixed(1)} s)`,
    );
  }, 180_000);

  it('a failing script is told in its job’s log, not in the worker’s as a warning with the task token', async () => {
    const res = await cluster.api('/jobs', { method: 'POST', body: jobForm({ script: { name: 'boom.ts', content: "export async function main() { throw new Error('boom: ' + 'x'.repeat(2000)); }" } }) });
    const id = ((await res.json()) as { uuid: string }).uuid;
    const final = await waitForEnd(cluster, id);
    expect(final.status).toBe('FAILURE');
    expect(fs.readFileSync(path.join(cluster.sharePath, id, 'logs', `${id}.log`), 'utf8')).toMatch(/--- attempt 1 failed: boom: x{100}/);
    const worker = cluster.logs().worker;
    expect(worker).not.toMatch(/taskToken/);
    expect(worker).not.toMatch(/boom: x{100}/);
  });
});
