// Faults: SHARE_PATH full (a 16 MiB tmpfs filled up). An upload gets 507 with a clear message and
// leaves nothing; a running job that cannot write fails saying so; what earlier jobs left is
// intact; once space is freed, jobs succeed again. Needs root to mount the tmpfs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster';
import { eventually, jobForm, waitForEnd } from '../helpers/stack';
import { readZip } from '../helpers/zip';

const mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-full-'));
const go = path.join(os.tmpdir(), `pixyz-full-go-${process.pid}`);
// A machine that cannot mount a tmpfs (not root, no CAP_SYS_ADMIN) skips this case, saying why.
let mounted = false;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mountPoint], { stdio: 'pipe' });
  mounted = true;
} catch (err) {
  console.warn(`disk-full fault case skipped: cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]})`);
}
let cluster: Cluster;
beforeAll(async () => {
  if (mounted) cluster = await startCluster({ SHARE_PATH: path.join(mountPoint, 'share') });
});
afterAll(async () => {
  await cluster?.stop();
  try {
    execFileSync('umount', [mountPoint]);
  } catch {
    // not mounted
  }
  fs.rmSync(mountPoint, { recursive: true, force: true });
  fs.rmSync(go, { force: true });
});

const post = (form: FormData) => cluster.api('/jobs', { method: 'POST', body: form });
const WRITER = {
  name: 'writer.ts',
  content: `import fs from 'node:fs';
export async function main(pc: any) {
  while (!fs.existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 50));
  fs.writeFileSync(pc.getOutputDir('big.bin'), Buffer.alloc(4 * 1024 * 1024, 1));
  return 'written';
}`,
};
const SMALL = { name: 'small.ts', content: `import fs from 'node:fs';\nexport async function main(pc: any) { fs.writeFileSync(pc.getOutputDir('a.txt'), 'a'); return 1; }` };

describe.skipIf(!mounted)('a full SHARE_PATH', () => {
  it('refuses uploads with 507, fails a job that cannot write, corrupts nothing, and recovers', async () => {
    // Before: a job with outputs, whose zip must survive.
    const earlier = ((await (await post(jobForm({ script: SMALL }))).json()) as { uuid: string }).uuid;
    expect((await waitForEnd(cluster, earlier)).status).toBe('SUCCESS');
    // A job waiting to write 4 MiB.
    const writer = ((await (await post(jobForm({ script: WRITER }))).json()) as { uuid: string }).uuid;
    await eventually(async () => (['STARTED', 'RUNNING'].includes(((await (await cluster.api(`/jobs/${writer}`)).json()) as { status: string }).status) ? true : undefined));

    // The disk fills up.
    const filler = path.join(mountPoint, 'filler');
    const fd = fs.openSync(filler, 'w');
    try {
      for (;;) fs.writeSync(fd, Buffer.alloc(64 * 1024));
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      fs.closeSync(fd);
    }
    const before = fs.readdirSync(cluster.sharePath).sort();
    const refused = await post(jobForm({ script: SMALL, file: { name: 'model.obj', content: Buffer.alloc(512 * 1024, 'v 0 0 0\n') } }));
    expect(refused.status).toBe(507);
    expect(JSON.stringify(await refused.json())).toMatch(/No space left in the share directory \(SHARE_PATH\)/);
    expect(fs.readdirSync(cluster.sharePath).sort()).toEqual(before); // nothing left by it

    fs.writeFileSync(go, '');
    const failed = await waitForEnd(cluster, writer, () => {}, 60_000);
    expect(failed.status).toBe('FAILURE');
    expect(JSON.stringify(failed)).toMatch(/no space left on device/i);

    // Nothing earlier was damaged.
    const zip = await readZip(Buffer.from(await (await cluster.api(`/jobs/${earlier}/outputs/archive`)).arrayBuffer()));
    expect(zip.get('a.txt')?.toString()).toBe('a');
    expect((await (await cluster.api(`/jobs/${earlier}/details`)).json()) as { status: string }).toMatchObject({ status: 'SUCCESS', result: 1 });

    // Space freed: jobs succeed again.
    fs.rmSync(filler);
    const after = ((await (await post(jobForm({ script: SMALL }))).json()) as { uuid: string }).uuid;
    expect((await waitForEnd(cluster, after)).status).toBe('SUCCESS');
    console.log('fault: SHARE_PATH full — upload 507, nothing left; running job FAILURE "no space left"; earlier outputs intact; next job SUCCESS once freed');
  }, 120_000);
});
