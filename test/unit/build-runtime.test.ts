// The script processes' JavaScript build (tools/build-runtime.cjs): trees of other sources are
// removed only once no worker has used them for a day, and never the latest few.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureRuntime, keepRuntime, prune } from '../../tools/build-runtime.cjs';

const build = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-build-'));
afterAll(() => fs.rmSync(build, { recursive: true, force: true }));

function tree(name: string, ageHours: number): void {
  const dir = path.join(build, name);
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
  const t = new Date(Date.now() - ageHours * 3600_000);
  fs.utimesSync(dir, t, t);
}

describe('the runtime build', () => {
  it('is built for the current sources and found again without rebuilding', () => {
    const dir = ensureRuntime();
    expect(fs.existsSync(path.join(dir, 'src', 'sdk', 'runner.js'))).toBe(true);
    const before = fs.statSync(path.join(dir, 'src', 'sdk', 'runner.js')).mtimeMs;
    expect(ensureRuntime()).toBe(dir);
    expect(fs.statSync(path.join(dir, 'src', 'sdk', 'runner.js')).mtimeMs).toBe(before);
    keepRuntime(dir)(); // starts and stops marking it as in use
  });

  it('keeps the ten latest trees, and any a worker used within a day; prunes the rest, and temporaries left by a killed build', () => {
    for (let i = 0; i < 12; i++) tree(`old${String(i).padStart(2, '0')}`, 48 + i); // old00 the latest used
    tree('current', 100); // the one being built for: kept whatever its age
    tree('.tmp-123-abcd', 0); // a build in progress
    tree('.tmp-456-dead', 5); // a build killed midway
    prune(build, 'current');
    expect(fs.readdirSync(build).sort()).toEqual(['.tmp-123-abcd', 'current', ...Array.from({ length: 10 }, (_, i) => `old0${i}`)]);
    // Eleven trees used within the day: all kept, the oldest trees then are not among the latest.
    for (let i = 0; i < 11; i++) tree(`recent${String(i).padStart(2, '0')}`, 1 + i);
    prune(build, 'current');
    expect(fs.readdirSync(build).filter((n) => !n.startsWith('recent')).sort()).toEqual(['.tmp-123-abcd', 'current']);
    expect(fs.readdirSync(build).filter((n) => n.startsWith('recent'))).toHaveLength(11);
  });
});
