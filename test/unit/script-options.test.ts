// What the API reads from a script's source at submission, without running it.
import { describe, expect, it } from 'vitest';
import { inspectScript } from '../../src/api/script-options';
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
