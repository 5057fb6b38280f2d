// prepareShare and zipOutputs as activities (MockActivityEnvironment): what lands in a job's
// directory, and what a hostile upload cannot do.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createShareActivities, type ExtractLimits } from '../../src/activities/share';
import { craftTarGz, craftZip, patchBytes, readZip, type TarEntry } from '../helpers/zip';

const mockEnv = () => new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR', () => {}) });

const LIMITS: ExtractLimits = { maxBytes: 10 * 1024 * 1024, maxEntries: 100, maxRatio: 200 };

let share: string;
let jobId: string;
let outside: string;
beforeEach(() => {
  share = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-unit-share-'));
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-unit-outside-'));
  jobId = randomUUID();
  fs.mkdirSync(path.join(share, jobId, 'inputs'), { recursive: true });
});
afterEach(() => {
  fs.rmSync(share, { recursive: true, force: true });
  fs.rmSync(outside, { recursive: true, force: true });
});

function upload(name: string, entries: Parameters<typeof craftZip>[1]): string {
  craftZip(path.join(share, jobId, 'inputs', name), entries);
  return `${jobId}/inputs/${name}`;
}

async function prepare(data: string | null, rootFile: string | null = null, limits = LIMITS) {
  const { prepareShare } = createShareActivities({ sharePath: share, limits });
  return mockEnv().run(prepareShare, { jobId, data, rootFile });
}

async function refusal(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).nonRetryable).toBe(true);
  return err as ApplicationFailure;
}

describe('prepareShare', () => {
  it('creates the job’s directories with 0755', async () => {
    expect(await prepare(null)).toEqual({ inputFile: null });
    for (const dir of ['inputs', 'outputs', 'archives', 'logs']) {
      const stat = fs.statSync(path.join(share, jobId, dir));
      expect(stat.isDirectory()).toBe(true);
      expect(stat.mode & 0o777).toBe(0o755);
    }
  });

  it('hands a plain upload to the script as it is', async () => {
    fs.writeFileSync(path.join(share, jobId, 'inputs', 'part.step'), 'ISO-10303-21;');
    expect(await prepare(`${jobId}/inputs/part.step`)).toEqual({ inputFile: `${jobId}/inputs/part.step` });
  });

  it('unpacks an archive and finds the first model file, or the root file asked for', async () => {
    const data = upload('model.zip', [
      { name: 'notes.txt', content: 'hello' },
      { name: 'b/wheel.STEP', content: 'ISO' },
      { name: 'a/body.obj', content: 'v 0 0 0' },
    ]);
    expect(await prepare(data)).toEqual({ inputFile: `${jobId}/inputs/extracted/a/body.obj` });
    expect(await prepare(data, 'b/wheel.STEP')).toEqual({ inputFile: `${jobId}/inputs/extracted/b/wheel.STEP` });
    expect(fs.readFileSync(path.join(share, jobId, 'inputs', 'extracted', 'notes.txt'), 'utf8')).toBe('hello');
  });

  it('refuses entries that climb out of the archive, and writes nothing outside', async () => {
    const rel = path.relative(path.join(share, jobId, 'inputs', 'extracted'), path.join(outside, 'evil.txt'));
    const data = upload('slip.zip', [{ name: 'ok.obj', content: 'v' }, { name: rel, content: 'pwned' }]);
    const err = await refusal(prepare(data));
    expect(err.type).toBe('PixyzSecurityViolation');
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it('refuses symbolic links', async () => {
    const data = upload('link.zip', [{ name: 'passwd.obj', symlinkTo: '/etc/passwd' }]);
    const err = await refusal(prepare(data));
    expect(err.type).toBe('PixyzSecurityViolation');
    expect(err.message).toMatch(/symbolic link/);
  });

  it('refuses archives over the entry and size limits', async () => {
    const many = upload('many.zip', Array.from({ length: 6 }, (_, i) => ({ name: `f${i}.obj`, content: 'v' })));
    expect((await refusal(prepare(many, null, { ...LIMITS, maxEntries: 5 }))).message).toMatch(/more than 5 entries/);
    const big = upload('big.zip', [{ name: 'big.obj', content: 'v'.repeat(200_000) }]);
    expect((await refusal(prepare(big, null, { ...LIMITS, maxBytes: 100_000 }))).message).toMatch(/more than 100000 bytes/);
  });

  it('refuses a root file outside the archive, or missing', async () => {
    const data = upload('model.zip', [{ name: 'a.obj', content: 'v' }]);
    expect((await refusal(prepare(data, '../../secret.obj'))).type).toBe('PixyzSecurityViolation');
    expect((await refusal(prepare(data, 'b.obj'))).type).toBe('PixyzFileNotFound');
    const none = upload('docs.zip', [{ name: 'a.txt', content: 'x' }]);
    expect((await refusal(prepare(none))).message).toMatch(/no file with a known 3D extension/);
  });

  it('refuses a file that is not a zip', async () => {
    fs.writeFileSync(path.join(share, jobId, 'inputs', 'fake.zip'), 'not a zip at all');
    expect((await refusal(prepare(`${jobId}/inputs/fake.zip`))).message).toMatch(/'fake.zip' is not a readable zip archive/);
  });
});

describe('prepareShare with hostile archives', () => {
  const refusedZip = async (entries: Parameters<typeof craftZip>[1], expected: RegExp, type = 'InvalidInput') => {
    const err = await refusal(prepare(upload(`z${Math.random().toString(36).slice(2)}.zip`, entries)));
    expect(err.type).toBe(type);
    expect(err.message).toMatch(expected);
    expect(fs.readdirSync(outside)).toEqual([]);
  };

  it('refuses duplicate and case-colliding names', async () => {
    await refusedZip([{ name: 'a.obj', content: '1' }, { name: 'a.obj', content: '2' }], /holds 'a.obj' twice/);
    await refusedZip([{ name: 'Part.OBJ', content: '1' }, { name: 'part.obj', content: '2' }], /holds both 'Part.OBJ' and 'part.obj', which differ only in case/);
  });

  it('refuses names that are not valid text', async () => {
    const file = path.join(share, jobId, 'inputs', 'names.zip');
    craftZip(file, [{ name: 'é_QQQQ.obj', content: 'v' }]);
    patchBytes(file, 'QQQQ', Buffer.from([0xff, 0xfe, 0xfd, 0xfc]));
    const err = await refusal(prepare(`${jobId}/inputs/names.zip`));
    expect(err.message).toMatch(/holds an entry whose name is not valid text/);
  });

  it('refuses drive letters and backslashes', async () => {
    await refusedZip([{ name: 'C:/windows/evil.obj', content: 'x' }], /outside the archive/, 'PixyzSecurityViolation');
    await refusedZip([{ name: '..\\..\\evil.obj', content: 'x' }], /outside the archive/, 'PixyzSecurityViolation');
  });

  it('unpacks a .tar.gz by the same rules', async () => {
    const ok = path.join(share, jobId, 'inputs', 'model.tar.gz');
    craftTarGz(ok, [{ name: 'model', type: 'dir' }, { name: 'model/body.stl', content: 'solid x' }, { name: 'readme.txt', content: 'r' }]);
    expect(await prepare(`${jobId}/inputs/model.tar.gz`)).toEqual({ inputFile: `${jobId}/inputs/extracted/model/body.stl` });
    const cases: [TarEntry, RegExp][] = [
      [{ name: '../../evil.stl', content: 'x' }, /outside the archive/],
      [{ name: 'link.stl', type: 'symlink', linkname: '/etc/passwd' }, /symbolic link/],
      [{ name: 'hard.stl', type: 'link', linkname: '/etc/passwd' }, /hard link/],
      [{ name: 'dev.stl', type: 'chr' }, /holds a device/],
      [{ name: 'pipe.stl', type: 'fifo' }, /holds a fifo/],
    ];
    for (const [entry, expected] of cases) {
      const file = path.join(share, jobId, 'inputs', 'bad.tar.gz');
      craftTarGz(file, [{ name: 'ok.stl', content: 'solid' }, entry]);
      const err = await refusal(prepare(`${jobId}/inputs/bad.tar.gz`));
      expect(err.type, entry.name).toBe('PixyzSecurityViolation');
      expect(err.message, entry.name).toMatch(expected);
    }
    expect(fs.readdirSync(outside)).toEqual([]);
  });
});

describe('zipOutputs', () => {
  it('writes archives/{id}.zip with the outputs, nested folders included', async () => {
    await prepare(null);
    const out = path.join(share, jobId, 'outputs');
    fs.mkdirSync(path.join(out, 'thumbs'));
    fs.writeFileSync(path.join(out, 'model.glb'), 'glTF');
    fs.writeFileSync(path.join(out, 'thumbs', 'iso.png'), 'png');
    const { zipOutputs } = createShareActivities({ sharePath: share, limits: LIMITS });
    const result = (await mockEnv().run(zipOutputs, { jobId })) as Awaited<ReturnType<typeof zipOutputs>>;
    expect(result.archive).toBe(`${jobId}/archives/${jobId}.zip`);
    expect(result.entries).toBe(2);
    const entries = await readZip(fs.readFileSync(path.join(share, result.archive)));
    expect(Object.fromEntries([...entries].map(([k, v]) => [k, v.toString()]))).toEqual({
      'model.glb': 'glTF',
      'thumbs/iso.png': 'png',
    });
    expect(fs.readdirSync(path.join(share, jobId, 'archives'))).toEqual([`${jobId}.zip`]);
  });
});
