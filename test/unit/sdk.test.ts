// The SDK as a script sees it: progress arithmetic (upstream's formula), directories, serialisation.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  PixyzNotSerializable,
  PixyzSecurityViolation,
  PixyzSharedDirectoryNotFound,
  ProgramContext,
  type ProgressSnapshot,
} from '../../src/sdk';
import * as sdk from '../../src/sdk';
import * as geometry from '../../src/geometry';

describe('progress', () => {
  it('follows upstream: floor((steps - 1) / total * 100), 100 once stopped, durations closed step by step', async () => {
    const pc = new ProgramContext();
    const seen: ProgressSnapshot[] = [];
    ProgramContext.attachReporter(pc, () => seen.push(pc.progress));
    pc.progressSetTotal(4);
    pc.progressNext('a');
    expect(pc.progress).toMatchObject({ total: 4, current: 1, progress: 0 });
    await new Promise((r) => setTimeout(r, 30));
    pc.progressNext('b');
    pc.progressNext('c');
    expect(pc.progress.progress).toBe(50);
    expect(pc.progress.steps[0]!.duration).toBeGreaterThanOrEqual(0.025);
    expect(pc.progress.steps[2]!.duration).toBe(-1);
    pc.progressStop();
    expect(pc.progress.progress).toBe(100);
    expect(pc.progress.stopped).not.toBeNull();
    expect(pc.progress.steps.every((s) => s.duration >= 0)).toBe(true);
    expect(seen).toHaveLength(5);
  });

  it('keeps the newest 1,000 steps of 100,000 and counts them all, each text at most 500 characters', () => {
    const pc = new ProgramContext();
    let changes = 0;
    ProgramContext.attachReporter(pc, () => changes++);
    pc.progressSetTotal(100_000);
    for (let i = 1; i <= 100_000; i++) pc.progressNext(i === 100_000 ? 'x'.repeat(10_000) : undefined);
    const p = pc.progress;
    expect(p.current).toBe(100_000);
    expect(p.progress).toBe(99);
    expect(p.steps).toHaveLength(1000);
    expect(p.steps[0]!.info).toBe('step 99001');
    expect(p.steps.at(-1)!.info).toHaveLength(500);
    expect(p.steps.at(-1)!.info.endsWith('…')).toBe(true);
    expect(changes).toBe(100_001);
  });

  it('names unnamed steps and treats a bad total as 1', () => {
    const pc = new ProgramContext();
    pc.progressSetTotal(0);
    pc.progressNext();
    pc.progressNext();
    expect(pc.progress.steps.map((s) => s.info)).toEqual(['step 1', 'step 2']);
    expect(pc.progress.progress).toBe(99); // never 100 before the script returns
  });
});

describe('ProgramContext', () => {
  it('has upstream’s defaults', () => {
    const pc = new ProgramContext();
    expect(pc.options).toMatchObject({ computeOnly: false, data: null, rootFile: null, tmp: true, isLocal: false, entrypoint: 'main', raw: false });
    expect(Date.parse(pc.options.timeRequest!)).not.toBeNaN();
  });

  it('gives paths inside the job’s directories and refuses to leave them', () => {
    const pc = new ProgramContext({ inputDir: '/share/j/inputs', outputDir: '/share/j/outputs' });
    expect(pc.getOutputDir()).toBe('/share/j/outputs');
    expect(pc.getOutputDir('thumbs/iso.png')).toBe(path.join('/share/j/outputs', 'thumbs/iso.png'));
    expect(pc.getInputDir('model.obj')).toBe('/share/j/inputs/model.obj');
    expect(() => pc.getOutputDir('../inputs/model.obj')).toThrow(PixyzSecurityViolation);
  });

  it('raises PixyzSharedDirectoryNotFound for a compute-only job', () => {
    const pc = new ProgramContext({ computeOnly: true });
    expect(() => pc.getOutputDir()).toThrow(PixyzSharedDirectoryNotFound);
    expect(() => pc.getOutputDir()).toThrow('a compute-only job has no output directory');
    expect(pc.getInputFile()).toBeNull();
  });

  it('update merges and returns the same context; clone returns a new one', () => {
    const pc = new ProgramContext({ entrypoint: 'main' });
    expect(pc.update({ rootFile: 'a.obj' })).toBe(pc);
    const copy = pc.clone({ entrypoint: 'screenshot', raw: true });
    expect(copy).not.toBe(pc);
    expect(copy.options).toMatchObject({ rootFile: 'a.obj', entrypoint: 'screenshot', raw: true });
    expect(pc.options.entrypoint).toBe('main');
  });

  it('fails at once, naming the field, when given something JSON cannot carry', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => new ProgramContext({ params: { handle: () => 1 } })).toThrow(PixyzNotSerializable);
    expect(() => new ProgramContext({ params: { handle: () => 1 } })).toThrow('value.params.handle is a function');
    expect(() => new ProgramContext().update({ extra: cyclic })).toThrow('circular');
    expect(() => new ProgramContext({ params: { map: new Map() } })).toThrow('is a Map, not plain JSON');
  });
});

describe('the ES-module facades', () => {
  it.each([
    ['sdk', sdk],
    ['geometry', geometry],
  ])('src/%s/esm.mjs lists every runtime export of its module', (dir, module) => {
    const facade = fs.readFileSync(path.join(__dirname, `../../src/${dir}/esm.mjs`), 'utf8');
    const listed = /export const \{([^}]*)\}/.exec(facade)![1]!.split(',').map((n) => n.trim()).filter(Boolean);
    const runtime = Object.keys(module).filter((k) => k !== 'default' && k !== '__esModule');
    expect(listed.sort()).toEqual(runtime.sort());
  });
});
