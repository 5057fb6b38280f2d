// Faults: the worker process killed with SIGKILL in the middle of jobs (its script processes die
// with it), then started again. Every job must end SUCCESS with whole outputs: nothing lost,
// nothing half-written in what a user downloads.
//
// `npm test` runs FAULT_ROUNDS=1 round; `npm run test:faults` runs 20.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveModel } from '../../src/geometry';
import { startCluster, type Cluster } from '../helpers/cluster';
import { assembly } from '../helpers/models';
import { eventually, isAlive, jobForm, readScript, waitForEnd, type Submission } from '../helpers/stack';
import { readZip } from '../helpers/zip';

const ROUNDS = Number(process.env.FAULT_ROUNDS ?? 1);

let cluster: Cluster;
let glb: Buffer;
beforeAll(async () => {
  cluster = await startCluster({ CONCURRENT_TASKS: '4' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-faults-'));
  await saveModel(assembly(), path.join(dir, 'assembly.glb'));
  glb = fs.readFileSync(path.join(dir, 'assembly.glb'));
  fs.rmSync(dir, { recursive: true, force: true });
});
afterAll(async () => {
  await cluster?.stop();
});

async function submit(s: Submission): Promise<string> {
  const res = await cluster.api('/jobs', { method: 'POST', body: jobForm(s) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { uuid: string }).uuid;
}
async function archive(id: string): Promise<Map<string, Buffer>> {
  const res = await cluster.api(`/jobs/${id}/outputs/archive`);
  expect(res.status).toBe(200);
  return readZip(Buffer.from(await res.arrayBuffer()));
}

describe('a worker killed with SIGKILL mid-job', () => {
  it(`loses no job and corrupts no output (${ROUNDS} round(s) of three jobs: a slow writer, a 3D conversion, a fan-out)`, async () => {
    const rows: { round: number; lost: number; corrupted: number; recoverySeconds: number }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const writer = await submit({ script: { name: 'half-written.ts', content: readScript('test/fixtures/faults/half-written.ts') } });
      const convert = await submit({ process: 'convert_file', file: { name: 'assembly.glb', content: glb }, params: { extension: 'OBJ' } });
      const fanOut = await submit({ script: { name: 'parts.ts', content: readScript('test/fixtures/faults/parts.ts') } });
      // Kill once the writer is half-way through its model.
      const outputs = path.join(cluster.sharePath, writer, 'outputs');
      await eventually(() => (fs.existsSync(outputs) && fs.readdirSync(outputs).some((f) => f.endsWith('.partial')) ? true : undefined), 30_000, 20);
      const scripts = cluster.scriptPids();
      expect(scripts.length).toBeGreaterThan(0);
      const killedAt = Date.now();
      await cluster.killWorker();
      // Its script processes follow it (their IPC channel closed): none is left running.
      await eventually(() => (scripts.some(isAlive) ? undefined : true), 5000, 50);
      await cluster.startWorker();

      const ends = await Promise.all([writer, convert, fanOut].map((id) => waitForEnd(cluster, id, () => {}, 120_000)));
      const recoverySeconds = (Date.now() - killedAt) / 1000;
      const lost = ends.filter((d) => d.status !== 'SUCCESS').length;
      expect(ends.map((d) => d.status), JSON.stringify(ends.map((d) => d.error))).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);

      // What a user downloads is whole: the writer's model complete, no partial file anywhere.
      let corrupted = 0;
      const writerZip = await archive(writer);
      if ([...writerZip.keys()].join() !== 'model.obj' || writerZip.get('model.obj')!.toString() !== 'v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n') corrupted++;
      expect(await (await cluster.api(`/jobs/${writer}/outputs`)).json()).toEqual({ outputs: ['model.obj'], files: [{ name: 'model.obj', bytes: 32 }] });
      const convertZip = await archive(convert);
      if (![...convertZip.keys()].some((name) => name.endsWith('.obj')) || [...convertZip.keys()].some((name) => name.includes('.partial'))) corrupted++;
      const partsZip = await archive(fanOut);
      if ([...partsZip.keys()].sort().join() !== 'part-1.txt,part-2.txt,part-3.txt') corrupted++;
      expect(ends[2].result).toEqual([1, 2, 3]);
      expect(corrupted).toBe(0);
      // The writer's log says its first attempt was lost with the worker.
      const log = fs.readFileSync(path.join(cluster.sharePath, writer, 'logs', `${writer}.log`), 'utf8');
      expect(log).toMatch(/attempt 2 on \S+, after attempt 1 was lost with its worker \(it stopped answering\)/);
      rows.push({ round, lost, corrupted, recoverySeconds });
    }
    const recoveries = rows.map((r) => r.recoverySeconds).sort((a, b) => a - b);
    console.log(
      `fault: worker SIGKILL mid-job — ${rows.length} round(s), ${rows.length * 3} jobs, lost ${rows.reduce((n, r) => n + r.lost, 0)}, ` +
        `outputs corrupted ${rows.reduce((n, r) => n + r.corrupted, 0)}, recovery (kill → all jobs ended) median ${recoveries[Math.floor(recoveries.length / 2)]!.toFixed(1)} s, max ${recoveries.at(-1)!.toFixed(1)} s`,
    );
  }, 60_000 + ROUNDS * 120_000);
});
