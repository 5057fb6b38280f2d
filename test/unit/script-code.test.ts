// Job scripts compiled by the worker (src/shared/script-code.ts): once per content, jobs of one
// script at once sharing one compilation, the cache bounded by what it holds.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CompiledScripts, commonJsOf } from '../../src/shared/script-code';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-script-code-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function script(name: string, source: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, source);
  return file;
}

describe('compiled job scripts', () => {
  it('compile once for many jobs of one script posted at once, and count what they hold once', async () => {
    const cache = new CompiledScripts();
    // Ten copies of one script (each job has its own, in its directory), compiled at the same time.
    const copies = Array.from({ length: 10 }, (_, i) => script(`job${i}/trivial.ts`, `export const main = (): number => 42;\n`));
    const codes = await Promise.all(copies.map((file) => commonJsOf(file, cache)));
    expect(new Set(codes).size).toBe(1);
    expect(codes[0]).toMatch(/exports|module/);
    const { entries, bytes } = cache.size;
    expect(entries).toBe(1);
    expect(bytes).toBeLessThan(codes[0]!.length * 2);
    expect(await commonJsOf(copies[0]!, cache)).toBe(codes[0]); // known: no new entry
    expect(cache.size).toEqual({ entries, bytes });
  });

  it('keeps the latest scripts within its bound, and says which scripts are ES modules', async () => {
    const cache = new CompiledScripts(20_000);
    for (let i = 0; i < 60; i++) await commonJsOf(script(`s${i}.ts`, `export const main = (): number => ${i};\n// ${'x'.repeat(200)}\n`), cache);
    expect(cache.size.bytes).toBeLessThanOrEqual(20_000);
    expect(cache.size.entries).toBeGreaterThan(10);
    expect(await commonJsOf(script('tla.ts', `await Promise.resolve();\nexport const main = () => 1;\n`), cache)).toBeNull(); // top-level await: import() runs it
    expect(await commonJsOf(script('broken.ts', `export const main = ( => 1;\n`), cache)).toBeNull(); // import() reports the syntax error
    expect(await commonJsOf(script('esm.mjs', `export const main = () => 1;\n`), cache)).toBeNull();
  });
});
