// Faults, `npm start`'s single process (API and worker side by side): its jobs start eagerly,
// on the worker's own connection (the server hands the first workflow task straight to that
// worker). While the Temporal server is away that connection retries for seconds: the API still
// answers 503, and after the first refusal at once; once the server is back, jobs start again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster';
import { eventually, jobForm, waitForEnd } from '../helpers/stack';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({}, { allInOne: true });
});
afterAll(async () => {
  await cluster?.stop();
});

const TRIVIAL = { name: 'trivial.ts', content: 'export async function main(_pc: unknown, p: { n: number }) { return { n: p.n }; }' };

describe("npm start's process, the Temporal server killed", () => {
  it('answers 503 while the server is away, at once after the first refusal, and runs jobs again once it is back', async () => {
    const post = (n: number) => cluster.api('/jobs', { method: 'POST', body: jobForm({ script: TRIVIAL, params: { n } }) });
    const run = async (n: number) => {
      const res = await post(n);
      expect(res.status).toBe(200);
      const end = await waitForEnd(cluster, ((await res.json()) as { uuid: string }).uuid);
      expect([end.status, end.result]).toEqual(['SUCCESS', { n }]);
    };
    await run(1);

    await cluster.killServer();
    const timed = async (n: number) => {
      const t0 = Date.now();
      const res = await post(n);
      return { status: res.status, detail: ((await res.json()) as { detail: string }).detail, seconds: (Date.now() - t0) / 1000 };
    };
    const first = await timed(2);
    expect(first.status).toBe(503);
    expect(first.detail).toMatch(/Temporal is not reachable/);
    expect(first.seconds).toBeLessThan(15);
    const second = await timed(3);
    expect(second.status).toBe(503);
    expect(second.seconds).toBeLessThan(3);

    await cluster.startServer();
    // Back within seconds: the first start that reaches the server brings eager starts back too.
    await eventually(async () => ((await cluster.api('/readyz')).status === 200 ? true : undefined), 20_000, 200);
    await run(4);
    await run(5);
    console.log(`fault: Temporal server killed under npm start's process — first POST refused in ${first.seconds.toFixed(1)} s, the next in ${second.seconds.toFixed(1)} s`);
  });
});
