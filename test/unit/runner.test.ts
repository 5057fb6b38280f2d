// The script process protocol, driven directly: the runner is forked as the activity forks it,
// with a script in a directory outside the repository.
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { scriptRunner, sourceRunner, type ScriptRunner } from '../../src/activities/run-script';
import { RunnerOutput } from '../../src/activities/runner-pool';
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

interface Runner {
  child: ChildProcess;
  messages: FromRunner[];
  exited: Promise<number | null>;
  /** Sends a job once the runner is ready; resolves with its result or error message, and the `retire` of the idle message after it. */
  run(j: ScriptJob, extra?: { cwd?: string; env?: Record<string, string>; endMarker?: string }): Promise<JobEnd>;
}
type JobEnd = Extract<FromRunner, { type: 'result' | 'error' }>;

const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** The runner a worker starts: its JavaScript build. */
const BUILT = scriptRunner();
/** The runner from its TypeScript source, under tsx (when the build cannot be had). */
const SOURCE = sourceRunner();

function startRunner(first?: ScriptJob, stdio: 'ignore' | 'pipe' = 'ignore', runner: ScriptRunner = BUILT): Runner {
  const child = fork(runner.module, [], {
    execArgv: runner.execArgv,
    env: { ...process.env, ...runner.env }, // as the worker's pool sets it
    cwd: dir,
    detached: true,
    stdio: ['ignore', stdio, stdio, 'ipc'],
  });
  running.push(child);
  const messages: FromRunner[] = [];
  const ready = new Promise<void>((resolve) => {
    child.on('message', (m: FromRunner) => {
      messages.push(m);
      if (m.type === 'ready') resolve();
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const run: Runner['run'] = async (j, extra = {}) => {
    await ready;
    const from = messages.length;
    child.send({ type: 'run', job: j, ...extra });
    const end = await eventually(() => messages.slice(from).find((m): m is JobEnd => m.type === 'result' || m.type === 'error'), 20_000, 10);
    if (end.retire) return end; // the process is exiting: no idle message follows
    // Whether the process may serve another job comes after the answer, in its `idle` message.
    const idle = await eventually(() => messages.slice(messages.indexOf(end)).find((m) => m.type === 'idle'), 20_000, 10);
    return { ...end, ...(idle.type === 'idle' && idle.retire ? { retire: idle.retire } : {}) };
  };
  // Its answer is not awaited: a runner killed meanwhile (afterEach) must not leave a rejection behind.
  if (first) run(first).catch(() => {});
  return { child, messages, exited, run };
}

describe('the runner', () => {
  it('says ready, reports progress as it changes, then the result, and waits for the next job', async () => {
    const script = writeScript(
      'ok.ts',
      `import { pixyzSchedule } from 'pixyz-scheduler';
       const pause = () => new Promise((r) => setTimeout(r, 250));
       export const main = pixyzSchedule({ queue: 'cpu' }, async (pc, params: { n: number }) => {
         pc.progressSetTotal(params.n);
         pc.progressNext('one');
         await pause();
         pc.progressNext('two');
         await pause();
         return { doubled: params.n * 2, when: new Date(0) };
       });`,
    );
    const { child, messages, run } = startRunner();
    const result = (await run(job(script))) as Extract<FromRunner, { type: 'result' }>;
    expect(messages.map((m) => m.type)).toEqual(['ready', 'progress', 'progress', 'progress', 'progress', 'progress', 'result', 'idle']); // start, total, one, two, stop; then free for another job
    expect(child.exitCode).toBeNull();
    expect(result.value).toEqual({ doubled: 4, when: '1970-01-01T00:00:00.000Z' });
    expect(result.progress.progress).toBe(100);
    expect(result.progress.steps.map((s) => s.info)).toEqual(['one', 'two']);
    expect(result.progress.steps.every((s) => s.duration >= 0)).toBe(true);
    const midway = messages[3] as Extract<FromRunner, { type: 'progress' }>;
    expect(midway.progress).toMatchObject({ total: 2, current: 1, progress: 0, steps: [{ info: 'one', duration: -1 }] });
  });

  it('sends the latest progress ten times a second at most, however fast a script reports it', async () => {
    const script = writeScript(
      'steps.ts',
      `export async function main(pc: any) {
         pc.progressSetTotal(100000);
         for (let i = 0; i < 100000; i++) pc.progressNext();
         return 1;
       }`,
    );
    const { messages, run } = startRunner();
    const result = (await run(job(script))) as Extract<FromRunner, { type: 'result' }>;
    expect(result.progress.current).toBe(100000);
    expect(result.progress.steps).toHaveLength(1000);
    expect(messages.filter((m) => m.type === 'progress').length).toBeLessThanOrEqual(12); // a burst of 10, then a few a second
  });

  it('reports a thrown error with its message, class and stack', async () => {
    const script = writeScript('bad.ts', `export function main() { throw new RangeError('out of range'); }`);
    const { messages } = startRunner(job(script));
    await eventually(() => messages.find((m) => m.type === 'error'));
    const error = messages.find((m) => m.type === 'error') as Extract<FromRunner, { type: 'error' }>;
    expect(error.error).toMatchObject({ type: 'ScriptFailed', name: 'RangeError', message: 'out of range' });
    expect(error.error.stack).toContain(`${script}:1:`); // the script's own file and line
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

describe('a runner serving job after job', () => {
  // A script that mutates module-level state, the environment, the working directory and process listeners.
  const counter = (name: string) =>
    writeScript(
      name,
      `let runs = 0;
       export async function main(pc: unknown, params: { set?: string }) {
         runs += 1;
         const seen = { runs, pid: process.pid, cwd: process.cwd(), jobVar: process.env.PIXYZ_JOB_ID ?? null, leaked: process.env.LEAKED ?? null, exitListeners: process.listenerCount('exit') };
         if (params.set) {
           process.env.LEAKED = params.set;
           process.chdir('/');
           process.on('exit', () => {});
         }
         return seen;
       }`,
    );

  it('gives each job a fresh script module, its own cwd and env, and the process as it started', async () => {
    const script = counter('counter.ts');
    const jobDir = fs.mkdtempSync(path.join(dir, 'job-'));
    const { run, child } = startRunner();
    const first = await run(job(script, { params: { set: 'from job 1' } }), { cwd: jobDir, env: { PIXYZ_JOB_ID: 'job-1' } });
    const second = await run(job(script, { params: {} }));
    expect(first).toMatchObject({ type: 'result', value: { runs: 1, pid: child.pid, cwd: fs.realpathSync(jobDir), jobVar: 'job-1', leaked: null } });
    // Same process; the module, the variables, the directory and the listener of job 1 are gone.
    expect(second).toMatchObject({ type: 'result', value: { runs: 1, pid: child.pid, cwd: fs.realpathSync(dir), jobVar: null, leaked: null } });
    expect((second as Extract<FromRunner, { type: 'result' }>).value).toMatchObject({ exitListeners: (first as any).value.exitListeners });
    expect(first.retire).toBeUndefined();
    expect(second.retire).toBeUndefined();
  });

  it('gives ES modules, top-level-await modules and scripts reading import.meta a fresh instance too', async () => {
    const esm = writeScript('counter.mjs', `let runs = 0;\nexport function main() { return { runs: ++runs, url: import.meta.url }; }`);
    const tla = writeScript('tla.mts', `let runs = 0;\nawait Promise.resolve();\nexport function main(): number { return ++runs; }`);
    const meta = writeScript('meta.ts', `let runs = 0;\nexport function main() { return { runs: ++runs, url: import.meta.url, dir: import.meta.dirname }; }`);
    const { run } = startRunner();
    for (let i = 0; i < 2; i++) {
      expect(await run(job(esm))).toMatchObject({ type: 'result', value: { runs: 1, url: expect.stringMatching(/\/counter\.mjs\?job=\d+$/) } });
      expect(await run(job(tla))).toMatchObject({ type: 'result', value: 1 });
      expect(await run(job(meta))).toMatchObject({ type: 'result', value: { runs: 1, url: pathToFileURL(meta).href, dir } });
    }
  });

  it('runs from its JavaScript build, and loads what scripts load beyond their own file as under tsx', async () => {
    expect(BUILT.module).toMatch(/build\/runtime\/[0-9a-f]{16}\/src\/sdk\/runner\.js$/);
    const d = fs.mkdtempSync(path.join(dir, 'helpers-'));
    const put = (name: string, source: string) => {
      fs.mkdirSync(path.dirname(path.join(d, name)), { recursive: true });
      fs.writeFileSync(path.join(d, name), source);
      return path.join(d, name);
    };
    put('twice.ts', `export const twice = (n: number): number => n * 2;`);
    put('label.ts', `export const label = (s: string): string => \`[\${s}]\`;`);
    put('importer.ts', `export async function sdkByImport(pc: unknown): Promise<boolean> { const { ProgramContext } = await import('pixyz-scheduler'); const { twice } = await import('./twice.ts'); return twice(1) === 2 && pc instanceof ProgramContext; }`);
    put('child.ts', `const n: number = Number(process.argv[2]);\nprocess.send!(n * 2, () => process.exit(0));`);
    // Class fields as TypeScript defines them by default (useDefineForClassFields), whatever a job's tsconfig says.
    put('fields.ts', `class Base { constructor() { this.init(); } init() {} }\nexport class Field extends Base { v: number | undefined; override init() { this.v = 5; } }`);
    const cases: [string, unknown][] = [
      // CommonJS with helpers of its own, named with and without an extension, or computed.
      [put('static.ts', `import { twice } from './twice';\nimport { label } from './label.js';\nimport { ProgramContext } from 'pixyz-scheduler';\nexport function main(pc: ProgramContext, p: { n: number }) { return { n: twice(p.n), s: label('x'), sdk: pc instanceof ProgramContext }; }`), { n: 4, s: '[x]', sdk: true }],
      [put('computed.ts', `import path from 'node:path';\nexport function main(_pc: unknown, p: { n: number }) { return { n: require(path.join(__dirname, 'twice.ts')).twice(p.n) }; }`), { n: 4 }],
      // import() from CommonJS: a TypeScript helper, the SDK and the geometry library by name.
      [put('dynamic.ts', `export async function main(pc: any, p: { n: number }) { const h: any = await import('./twice.ts'); const { ProgramContext } = await import('pixyz-scheduler'); const g = await import('pixyz-scheduler/geometry'); return { n: (h.twice ?? h.default.twice)(p.n), sdk: pc instanceof ProgramContext, geometry: typeof g.createDocument }; }`), { n: 4, sdk: true, geometry: 'function' }],
      // A helper it requires calls import() (nothing in the script itself says so); and an import() never reached.
      [put('via-helper.ts', `import { sdkByImport } from './importer';\nexport async function main(pc: unknown) { if (Date.now() < 0) await import('./nowhere.mjs'); return { sdk: await sdkByImport(pc) }; }`), { sdk: true }],
      // A Node process the script forks runs TypeScript too.
      [put('forks.ts', `import { fork } from 'node:child_process';\nimport path from 'node:path';\nexport function main(_pc: unknown, p: { n: number }) { return new Promise((resolve) => { const c = fork(path.join(__dirname, 'child.ts'), [String(p.n)], { stdio: 'ignore' }); c.once('message', (n) => resolve({ n })); }); }`), { n: 4 }],
      // An ES module in TypeScript importing the SDK and a helper.
      [put('esm.mts', `import { ProgramContext } from 'pixyz-scheduler';\nimport { twice } from './twice.ts';\nexport function main(pc: ProgramContext, p: { n: number }) { return { n: twice(p.n), sdk: pc instanceof ProgramContext }; }`), { n: 4, sdk: true }],
    ];
    // A job directory whose tsconfig maps the SDK's name to typings of its own (as for an editor)
    // and defines class fields otherwise: neither its scripts nor the next jobs of the process
    // get another SDK, or its compiler options.
    const typed = path.join(d, 'typed');
    put('typed/tsconfig.json', JSON.stringify({ compilerOptions: { baseUrl: '.', useDefineForClassFields: false, paths: { 'pixyz-scheduler': ['./types/stub.ts'] } } }));
    put('typed/types/stub.ts', `export const STUB = true;`);
    const typedEsm = put('typed/first.mts', `import * as sdk from 'pixyz-scheduler';\nexport function main(pc: unknown) { return { stub: (sdk as any).STUB === true, sdk: pc instanceof sdk.ProgramContext }; }`);
    const typedCjs = put('typed/main.ts', `import * as sdk from 'pixyz-scheduler';\nexport function main(pc: unknown) { return { stub: (sdk as any).STUB === true, sdk: pc instanceof sdk.ProgramContext }; }`);
    const fields = put('fields.mts', `import { Field } from './fields.ts';\nexport function main() { return { v: new Field().v ?? null }; }`);
    // An error thrown inside the SDK names its TypeScript lines.
    const sdkError = put('no-dir.ts', `export function main(pc: any) { return pc.getInputDir(); }`);
    for (const runner of [BUILT, SOURCE]) {
      // A fresh process's first job, whatever it imports, is no reason to replace the process.
      // (From the source, tsx's disk cache may still be writing what it compiled: the job is blamed.)
      const fresh = startRunner(undefined, 'pipe', runner);
      const first = await fresh.run(job(cases[3]![0]));
      expect(first).toMatchObject({ type: 'result', value: cases[3]![1] });
      if (runner === BUILT) expect(first.retire).toBeUndefined();
      const { run } = startRunner(undefined, 'ignore', runner);
      for (const script of [typedEsm, typedCjs]) expect(await run(job(script), { cwd: typed })).toMatchObject({ type: 'result', value: { stub: false, sdk: true } });
      for (const [script, value] of cases) expect(await run(job(script)), `${path.basename(script)} in ${path.basename(runner.module)}`).toMatchObject({ type: 'result', value });
      expect(await run(job(fields))).toMatchObject({ type: 'result', value: { v: null } });
      const failed = (await run(job(sdkError))) as Extract<FromRunner, { type: 'error' }>;
      expect(failed.error.stack).toMatch(/src\/sdk\/program-context\.ts:\d+:\d+/);
    }
  });

  it('reports the job’s CPU and the process’s memory after it', async () => {
    // 0.3 s of its own CPU, however busy the machine (a wall-clock spin gets less on a loaded one).
    const script = writeScript('spin.ts', `export function main() { const t = process.cpuUsage(); for (;;) { const u = process.cpuUsage(t); if (u.user + u.system > 300_000) return 1; } }`);
    const { run } = startRunner();
    const end = await run(job(script));
    expect(end.usage!.cpuSeconds).toBeGreaterThan(0.2);
    expect(end.usage!.cpuSeconds).toBeLessThan(2); // the job's own, not the process's start-up
    expect(end.usage!.rssBytes).toBeGreaterThan(20 * 2 ** 20);
    expect(end.usage!.peakRssBytes).toBeGreaterThanOrEqual(end.usage!.rssBytes! * 0.5);
  });

  it('asks to be replaced when the script left a subprocess or a timer running', async () => {
    const spawner = writeScript(
      'spawner.ts',
      `import { spawn } from 'node:child_process';
       export function main() { const c = spawn('sleep', ['60'], { stdio: 'ignore' }); c.unref(); return c.pid; }`,
    );
    const ticker = writeScript('ticker.ts', `export function main() { setInterval(() => {}, 1000); return 1; }`);
    const tidy = writeScript('tidy.ts', `export async function main() { await new Promise((r) => setTimeout(r, 10)); return 1; }`);
    // Piped, as the pool starts it: the end markers it writes after the first job are no leftover of that job.
    const { run } = startRunner(undefined, 'pipe');
    expect((await run(job(tidy))).retire).toBeUndefined();
    const spawned = await run(job(spawner));
    expect(spawned.retire).toMatch(new RegExp(`left 1 subprocess\\(es\\) running \\(${(spawned as any).value}\\)`));
    process.kill((spawned as any).value, 'SIGKILL');
    const second = startRunner();
    expect((await second.run(job(ticker))).retire).toMatch(/left 1 Timeout running/);
    // A file read still pending (its callback would throw during the next job).
    const reader = writeScript(
      'reader.ts',
      `import fs from 'node:fs';
       export function main() { void fs.promises.readFile(process.execPath).then(() => { throw new Error('from the job before'); }); return 1; }`,
    );
    const third = startRunner();
    expect((await third.run(job(reader))).retire).toMatch(/left 1 FSReqPromise running|left 1 FSReqCallback running/);
  });

  it('writes the end marker on stdout and stderr after the job’s own output', async () => {
    const script = writeScript('talk.ts', `export function main() { console.log('out line'); console.error('err line'); return 1; }`);
    const { child, run } = startRunner(undefined, 'pipe');
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    await run(job(script), { endMarker: '\u001eEND-1' });
    await eventually(() => (out.includes('END-1') && err.includes('END-1') ? true : undefined));
    expect(out).toBe('out line\n\u001eEND-1\n');
    expect(err).toBe('err line\n\u001eEND-1\n');
  });

  it('refuses what a job asks for once it is over', async () => {
    // Job 1 keeps its context and starts a sub-task after it returned.
    const late = writeScript(
      'late.ts',
      `export function main(pc: any) {
         setTimeout(() => pc.execute({}).get().then(() => {}, (e: Error) => { (globalThis as any).lateError = e.message; }), 50);
         return 1;
       }`,
    );
    const probe = writeScript('probe.ts', `export function main() { return (globalThis as any).lateError ?? null; }`);
    const { run, messages } = startRunner();
    expect((await run(job(late))).retire).toMatch(/left 1 Timeout running/); // the pool would not reuse it
    await new Promise((r) => setTimeout(r, 300));
    const second = await run(job(probe));
    expect(messages.filter((m) => m.type === 'request')).toEqual([]);
    expect((second as any).value).toMatch(/is over: its sub-tasks can no longer be started or joined/);
  });
});

describe('the output of a reused process', () => {
  /** A process's two pipes, attached to a job log that collects into `text()`. */
  function attached() {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const output = new RunnerOutput({ stdout, stderr } as unknown as ChildProcess);
    const log = new PassThrough();
    let text = '';
    log.on('data', (d) => (text += d));
    return { stdout, stderr, output, done: output.attach(log, '\u001eEND'), text: () => text };
  }

  it('goes to the job’s log up to the end marker, even split across reads, and no further', async () => {
    const { stdout, stderr, output, done, text } = attached();
    stdout.write('line 1\n\u001eE');
    stderr.write('oops \u001e not the end\n\u001eEND\n');
    stdout.write('ND');
    await new Promise((r) => setImmediate(r));
    expect(text()).toBe('line 1\noops \u001e not the end\n'); // the split marker is held back, not logged
    stdout.write('\nafter the job\n');
    expect(await done).toBe(true);
    output.detach();
    expect(text()).toBe('line 1\noops \u001e not the end\n');
  });

  it('says so when the process ended before its marker', async () => {
    const { stdout, stderr, done, text } = attached();
    stdout.end('last words \u001eEN');
    stderr.end();
    expect(await done).toBe(false);
    expect(text()).toBe('last words \u001eEN');
  });
});
