// What the API reads from a script's source at submission, without running it.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { inspectScript } from '../../src/api/script-options';
import { OUTPUT_FORMATS } from '../../src/geometry/formats';
import { COMPRESSIONS } from '../../src/geometry/gltf';
import { paramsProblem, readParamSpecs, type ParamSpecs } from '../../src/shared/param-specs';
import { readScript } from '../helpers/stack';

describe('inspectScript', () => {
  it('reads the constant options of a pixyzSchedule wrapper', () => {
    const src = `import { pixyzSchedule } from 'pixyz-scheduler';
      export const main = pixyzSchedule({ queue: 'gpu', timeLimit: 2 * 3600, wait: true, name: 'thumbs', dynamic: Date.now() }, async () => 1);`;
    expect(inspectScript('x.ts', src, 'main').options).toEqual({ queue: 'gpu', timeLimit: 7200, wait: true, name: 'thumbs' });
  });

  it('accepts a plain exported function, an exported arrow, and export lists', () => {
    expect(inspectScript('x.ts', 'export async function main(pc, p) {}', 'main').options).toEqual({});
    expect(inspectScript('x.ts', 'export const go = async () => 1;', 'go').options).toEqual({});
    const src = `import * as sdk from 'pixyz-scheduler';
      const run = sdk.pixyzSchedule({ queue: 'control' }, async () => 1);
      function other() {}
      export { run as main, other };`;
    expect(inspectScript('x.ts', src, 'main').options).toEqual({ queue: 'control' });
    expect(inspectScript('x.ts', src, 'other').options).toEqual({});
  });

  it('accepts CommonJS exports', () => {
    const src = `const { pixyzSchedule } = require('pixyz-scheduler');
      exports.main = pixyzSchedule({ queue: 'cpu' }, async () => 1);
      module.exports.second = async function () {};`;
    expect(inspectScript('x.js', src, 'main').options).toEqual({ queue: 'cpu' });
    expect(inspectScript('x.js', src, 'second').options).toEqual({});
  });

  it('refuses a script without that entrypoint, or one that is not exported', () => {
    expect(() => inspectScript('x.ts', 'async function main() {}', 'main')).toThrow('The script file does not have the function main');
    expect(() => inspectScript('x.ts', 'export const main = 42;', 'main')).toThrow('does not have the function main');
    expect(() => inspectScript('x.ts', 'export function main() {}', 'convert')).toThrow('does not have the function convert');
  });

  it('refuses a script that does not parse, saying where', () => {
    expect(() => inspectScript('x.ts', 'export function main() {\n  return (;\n}', 'main')).toThrow(/does not parse: .*\(line 2, column \d+\)/);
  });

  it('answers a script submitted again as the first time: its options, or its refusal', () => {
    const src = "export const main = pixyzSchedule({ queue: 'gpu' }, async () => 1);";
    const first = inspectScript('a.ts', src, 'main');
    first.options.queue = 'changed by a caller';
    expect(inspectScript('b.ts', src, 'main').options).toEqual({ queue: 'gpu' });
    expect(() => inspectScript('b.ts', src, 'other')).toThrow('does not have the function other'); // another entrypoint, another answer
    for (let i = 0; i < 2; i++) expect(() => inspectScript('x.ts', 'export function main() {\n  return (;\n}', 'main')).toThrow(/line 2/);
  });

  it('reads the tutorials as shipped', () => {
    expect(inspectScript('00_sleep.ts', readScript('scripts/tutorial/00_sleep.ts'), 'main').options).toEqual({ queue: 'cpu', timeLimit: 60 });
    expect(inspectScript('00_progress.ts', readScript('scripts/tutorial/00_progress.ts'), 'main').options).toEqual({ queue: 'cpu', timeLimit: 600 });
  });
});

describe('declared params', () => {
  const specsOf = (src: string): ParamSpecs => {
    const read = readParamSpecs(inspectScript('x.ts', src, 'main').options.params);
    if ('problem' in read) throw new Error(read.problem);
    return read.specs;
  };

  it('are read from the script, inline or from a top-level constant, with `as const`', () => {
    const inline = specsOf(`export const main = pixyzSchedule({ params: { n: { type: 'integer', minimum: 1 } } }, async () => 1);`);
    expect(inline).toEqual({ n: { type: 'integer', minimum: 1 } });
    const named = specsOf(`const params = { ext: { type: 'string', enum: ['a', 'b'], default: 'a' } } as const;
      const QUEUE = 'gpu';
      export const main = pixyzSchedule({ queue: QUEUE, params }, async () => 1);`);
    expect(named).toEqual({ ext: { type: 'string', enum: ['a', 'b'], default: 'a' } });
    expect(inspectScript('x.ts', `const QUEUE = 'gpu';\nexport const main = pixyzSchedule({ queue: QUEUE }, async () => 1);`, 'main').options).toEqual({ queue: 'gpu' });
  });

  it('refuse a declaration without a type, or whose default breaks it', () => {
    expect(readParamSpecs({ n: { minimum: 1 } })).toEqual({ problem: expect.stringContaining("params 'n': give a constant `type`") });
    expect(readParamSpecs({ n: { type: 'number', minimum: 1, default: 0 } })).toEqual({ problem: expect.stringContaining("'n' must be at least 1, not 0") });
    expect(readParamSpecs([1])).toEqual({ problem: expect.stringContaining('must be an object literal') });
  });

  it('check params by type, enum and bounds, and let through what they do not name', () => {
    const specs: ParamSpecs = {
      ext: { type: 'string', enum: ['glb', 'obj'] },
      size: { type: 'integer', minimum: 16, maximum: 4096 },
      ratio: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
      weld: { type: 'boolean' },
    };
    expect(paramsProblem(specs, { ext: 'obj', size: 512, ratio: 0.5, weld: true, other: { any: 1 } })).toBeNull();
    // As the processes read them: numbers as text, booleans as "true"/"false"; null is "not given".
    expect(paramsProblem(specs, { size: '512', ratio: '0.25', weld: 'false', ext: null })).toBeNull();
    expect(paramsProblem(specs, { ext: 'OBJ' })).toBeNull();
    expect(paramsProblem(specs, { ext: 'pxz' })).toBe(`'ext' must be one of glb, obj, not "pxz"`);
    expect(paramsProblem(specs, { size: 15 })).toBe(`'size' must be at least 16, not 15`);
    expect(paramsProblem(specs, { size: 20.5 })).toBe(`'size' must be a whole number, not 20.5`);
    expect(paramsProblem(specs, { ratio: 0 })).toBe(`'ratio' must be over 0, not 0`);
    expect(paramsProblem(specs, { ratio: 'half' })).toBe(`'ratio' must be a number, not "half"`);
    expect(paramsProblem(specs, { weld: 1 })).toBe(`'weld' must be a boolean, not 1`);
    expect(paramsProblem(specs, [1])).toBe('params must be a JSON object');
  });

  it('of the predefined processes name what the 3D library takes', () => {
    const processes = path.join(__dirname, '..', '..', 'scripts', 'process');
    const declared = (name: string) => specsOf(fs.readFileSync(path.join(processes, `${name}.ts`), 'utf8'));
    const convert = declared('convert_file');
    expect(convert.extension!.enum).toEqual([...OUTPUT_FORMATS]);
    expect(convert.compression!.enum).toEqual([...COMPRESSIONS]);
    for (const name of ['convert_file', 'generate_metadata', 'generate_thumbnails', 'thumbnail_chained']) {
      expect(Object.keys(declared(name)), name).toEqual(expect.arrayContaining(['linear_deflection', 'angular_deflection']));
    }
    expect(declared('sleep')).toEqual({ duration: expect.objectContaining({ type: 'number', minimum: 0 }) });
  });
});
