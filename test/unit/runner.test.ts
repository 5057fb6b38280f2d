// The script process protocol, driven directly: the runner is forked as the activity forks it,
// with a script in a directory outside the repository.
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RUNNER, runnerExecArgv } from '../../src/activities/run-script';
import type { FromRunner, ScriptJob } from '../../src/shared/protocol';
import { eventually, isAlive } from '../helpers/stack';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-runner-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeScript(name: string, source: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, source);
  return file;
}

function job(script: string, overrides: Partial<ScriptJob> = {}): ScriptJob {
  return {
    jobId: '11111111-1111-4111-8111-111111111111',
    script,
    entrypoint: 'main',
    params: { n: 2 },
    name: null,
    queue: 'cpu',
    timeLimitSeconds: 60,
    computeOnly: true,
    timeRequest: new Date().toISOString(),
    data: null,
    rootFile: null,
    inputFile: null,
    inputDir: null,
    outputDir: null,
    attempt: 1,
    ...overrides,
  };
}

function startRunner(j: ScriptJob): { child: ChildProcess; messages: FromRunner[]; exited: Promise<number | null> } {
  const child = fork(RUNNER, [], {
    execArgv: runnerExecArgv(),
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  const messages: FromRunner[] = [];
  child.on('message', (m: FromRunner) => {
    messages.push(m);
    if (m.type === 'ready') child.send({ type: 'run', job: j });
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, messages, exited };
}

describe('the runner', () => {
  it('says ready, reports each progress change, then the result, and exits', async () => {
    const script = writeScript(
      'ok.ts',
      `import { pixyzSchedule } from 'pixyz-scheduler';
       export const main = pixyzSchedule({ queue: 'cpu' }, async (pc, params: { n: number }) => {
         pc.progressSetTotal(params.n);
         pc.progressNext('one');
         pc.progressNext('two');
         return { doubled: params.n * 2, when: new Date(0) };
       });`,
    );
    const { messages, exited } = startRunner(job(script));
    expect(await exited).toBe(0);
    expect(messages.map((m) => m.type)).toEqual(['ready', 'progress', 'progress', 'progress', 'progress', 'progress', 'result']);
    const result = messages.at(-1) as Extract<FromRunner, { type: 'result' }>;
    expect(result.value).toEqual({ doubled: 4, when: '1970-01-01T00:00:00.000Z' });
    expect(result.progress.progress).toBe(100);
    expect(result.progress.steps.map((s) => s.info)).toEqual(['one', 'two']);
    expect(result.progress.steps.every((s) => s.duration >= 0)).toBe(true);
    const midway = messages[3] as Extract<FromRunner, { type: 'progress' }>;
    expect(midway.progress).toMatchObject({ total: 2, current: 1, progress: 0, steps: [{ info: 'one', duration: -1 }] });
  });

  it('reports a thrown error with its message, class and stack', async () => {
    const script = writeScript('bad.ts', `export function main() { throw new RangeError('out of range'); }`);
    const { messages } = startRunner(job(script));
    await eventually(() => messages.find((m) => m.type === 'error'));
    const error = messages.find((m) => m.type === 'error') as Extract<FromRunner, { type: 'error' }>;
    expect(error.error).toMatchObject({ type: 'ScriptFailed', name: 'RangeError', message: 'out of range' });
    expect(error.error.stack).toContain('bad.ts');
  });

  it('names a missing entrypoint', async () => {
    const script = writeScript('noentry.mjs', `export const other = 1;`);
    const { messages } = startRunner(job(script));
    const error = await eventually(() => messages.find((m) => m.type === 'error'));
    expect((error as Extract<FromRunner, { type: 'error' }>).error.message).toMatch(/does not have the function main/);
  });

  it('refuses a result JSON cannot carry', async () => {
    const script = writeScript('bigint.ts', `export const main = () => ({ count: 10n });`);
    const { messages } = startRunner(job(script));
    const error = await eventually(() => messages.find((m) => m.type === 'error'));
    expect((error as Extract<FromRunner, { type: 'error' }>).error.message).toBe(
      'the script result: value.count is a bigint, which JSON cannot carry',
    );
  });

  it('dies with its process group when its worker goes away', async () => {
    const pidFile = path.join(dir, 'grandchild.pid');
    const script = writeScript(
      'hang.ts',
      `import { spawn } from 'node:child_process';
       import fs from 'node:fs';
       export async function main() {
         const c = spawn('sleep', ['300'], { stdio: 'ignore' });
         fs.writeFileSync(${JSON.stringify(pidFile)}, String(c.pid));
         await new Promise(() => setInterval(() => {}, 1000));
       }`,
    );
    const { child, exited } = startRunner(job(script));
    const grandchild = await eventually(() => (fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : undefined));
    expect(isAlive(grandchild)).toBe(true);
    child.disconnect(); // what a killed worker looks like from the script process
    await exited;
    await eventually(() => (!isAlive(grandchild) ? true : undefined), 5000, 20);
  });
});
