// The script process of TypeScript and JavaScript jobs (a Python job's is pixyz_worker.runner, which
// speaks the same protocol). Started ahead of its jobs by the worker's pool, with Node IPC; serves
// one `run` message after another, as Celery's prefork children do: loads the job script afresh,
// calls its entrypoint with (pc, params), reports progress, then the result or the error, and
// undoes what the job changed in the process before the next one. It never outlives its worker:
// when the IPC channel closes, it kills its process group and exits.
import fs from 'node:fs';
import { ErrorType } from '../shared/errors';
import {
  MAX_RESULT_BYTES,
  type FromRunner,
  type RunnerRequest,
  type ScriptErrorInfo,
  type ScriptUsage,
  type ToRunner,
} from '../shared/protocol';
import type { Canvas, SpawnOutput } from '../shared/types';
import { setBackend, type Backend } from './backend';
import { forgetStarts, settleStarts } from './canvas';
import { PixyzNotSerializable, SubTaskFailed } from './errors';
import { ProgramContext } from './program-context';
import { assertSerializable } from './serializable';
import { installImportResolution, installSdkResolution, installTypeScriptRequire } from './resolve';
import { callEntrypoint, loadEntrypoint, ScriptLoadError } from './load';

/** Errors the runner raises about the script (not thrown by it), with their ErrorType. */
class RunnerError extends ScriptLoadError {}

/** Request ids are never reused in a process, so that a late reply cannot reach a later job. */
let nextRequestId = 1;

/** Sub-tasks through the worker: each call is a request over IPC that the activity answers. One per job. */
class RemoteBackend implements Backend {
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private closed = false;

  constructor(readonly jobId: string) {}

  /** The activity's answer to one of this job's requests (replies to other jobs' are ignored). */
  settle(message: Extract<ToRunner, { type: 'reply' }>): void {
    const waiter = this.waiting.get(message.requestId);
    if (!waiter) return;
    this.waiting.delete(message.requestId);
    if (message.ok) waiter.resolve(message.value);
    else waiter.reject(new SubTaskFailed(message.error.message, message.error.type, message.error.childId ?? null));
  }

  /** The job is over: what it still waits for never settles, and what it asks now is refused. */
  close(): void {
    this.closed = true;
    this.waiting.clear();
  }

  private request(req: RunnerRequest): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error(`job ${this.jobId} is over: its sub-tasks can no longer be started or joined`));
    const requestId = nextRequestId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(requestId, { resolve, reject });
      void send({ type: 'request', requestId, ...req });
    });
  }

  spawn(canvas: Canvas): Promise<SpawnOutput> {
    return this.request({ op: 'spawn', canvas }) as Promise<SpawnOutput>;
  }

  join(id: string, kind: 'task' | 'canvas', timeoutMs: number | null): Promise<unknown> {
    return this.request({ op: 'join', id, kind, timeoutMs });
  }

  status(id: string): Promise<string> {
    return this.request({ op: 'status', id }) as Promise<string>;
  }
}

function send(message: FromRunner): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(message, undefined, {}, () => resolve());
  });
}

function errorInfo(err: unknown): ScriptErrorInfo {
  // A sub-task's failure fails its parent with the sub-task's own message (not retried).
  if (err instanceof SubTaskFailed) return { type: ErrorType.ScriptFailed, name: err.name, message: err.message, stack: err.stack ?? null };
  if (err instanceof ScriptLoadError) return { type: err.type, name: 'Error', message: err.message, stack: err.stack ?? null };
  if (err instanceof Error) {
    return { type: ErrorType.ScriptFailed, name: err.name, message: err.message || err.name, stack: err.stack ?? null };
  }
  return { type: ErrorType.ScriptFailed, name: 'Error', message: `the script threw a non-Error value: ${String(err)}`, stack: null };
}

/** JSON of the result, refusing what cannot travel or is too large for a Temporal payload. */
function checkedResult(value: unknown): unknown {
  try {
    assertSerializable(value, 'the script result');
  } catch (err) {
    if (err instanceof PixyzNotSerializable) throw new RunnerError(ErrorType.ScriptFailed, err.message);
    throw err;
  }
  const json = JSON.stringify(value ?? null);
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_RESULT_BYTES) {
    throw new RunnerError(
      ErrorType.ResultTooLarge,
      `the script result is ${bytes} bytes of JSON, over the ${MAX_RESULT_BYTES}-byte limit: write large data to a file in pc.getOutputDir() and return its name`,
    );
  }
  return JSON.parse(json);
}

/** The process as it started, which every job leaves it as. */
interface Baseline {
  cwd: string;
  env: Record<string, string | undefined>;
  umask: number;
}

/** Process events a script may listen to; listeners it adds are removed after its job. */
const PROCESS_EVENTS = ['exit', 'beforeExit', 'uncaughtException', 'unhandledRejection', 'warning', 'message', 'disconnect', 'SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR2'] as const;
/**
 * Handles and requests that outlive a job only when the script left them running (timers,
 * servers, sockets, subprocesses, file and DNS requests still pending): their callbacks would run
 * — and could throw — during the next job.
 */
const LASTING_RESOURCES = new Set([
  'Timeout', 'TCPSocketWrap', 'TCPServerWrap', 'UDPWrap', 'PipeWrap', 'PipeServerWrap', 'ProcessWrap', 'FSEventWrap', 'StatWatcher',
  'FSReqCallback', 'FSReqPromise', 'FileHandle', 'GetAddrInfoReqWrap', 'GetNameInfoReqWrap', 'QueryReqWrap',
]);

/** Progress changes sent at once in a row; past them, one every PROGRESS_EVERY_MS (the worker heartbeats every 250 ms). */
const PROGRESS_BURST = 10;
const PROGRESS_EVERY_MS = 100;
let progressTimer: NodeJS.Timeout | undefined;

let baseline: Baseline;
let jobs = 0;
let current: RemoteBackend | null = null;

function countResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) if (LASTING_RESOURCES.has(kind)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/** Waits (a tenth of a second at most) until no file request of this process is pending. */
async function fileRequestsDone(): Promise<void> {
  const until = performance.now() + 100;
  while (performance.now() < until && process.getActiveResourcesInfo().some((kind) => kind.startsWith('FSReq'))) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Processes of this process group other than this one: what the script started and left running. */
function leftoverProcesses(): number[] | null {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return null; // not Linux: cannot tell
  }
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
    const close = stat.lastIndexOf(')');
    const [state, ppid, pgrp] = stat.slice(close + 2).split(' ');
    if (Number(pgrp) !== process.pid || state === 'Z') continue;
    // tsx's esbuild service (which the loader shares) lives as long as this process.
    if (Number(ppid) === process.pid && stat.slice(stat.indexOf('(') + 1, close) === 'esbuild') continue;
    found.push(Number(entry));
  }
  return found;
}

/** Why this process must not serve another job after this one, if it must not. */
async function leftovers(resourcesBefore: Map<string, number>): Promise<string | undefined> {
  const processes = leftoverProcesses();
  if (processes === null) return 'its leftover subprocesses cannot be listed here';
  if (processes.length > 0) return `the script left ${processes.length} subprocess(es) running (${processes.join(', ')})`;
  await new Promise((resolve) => setImmediate(resolve)); // handles closed by the job are released by now
  const grown = [...countResources()].filter(([kind, n]) => n > (resourcesBefore.get(kind) ?? 0)).map(([kind, n]) => `${n - (resourcesBefore.get(kind) ?? 0)} ${kind}`);
  if (grown.length > 0) return `the script left ${grown.join(', ')} running`;
  return undefined;
}

/** Puts back what the job changed: working directory, environment, umask, process listeners. */
function restore(listeners: Map<string, ((...args: unknown[]) => void)[]>): void {
  process.chdir(baseline.cwd);
  for (const key of Object.keys(process.env)) if (!Object.hasOwn(baseline.env, key)) delete process.env[key];
  Object.assign(process.env, baseline.env);
  process.umask(baseline.umask);
  process.exitCode = undefined;
  for (const [event, kept] of listeners) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!kept.includes(listener as (...args: unknown[]) => void)) process.off(event, listener);
    }
  }
}

/** The job's peak resident set (Linux lets a process reset its high-water mark), else the process's. */
function startUsage(): () => ScriptUsage {
  let ownPeak = true;
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    ownPeak = false;
  }
  const cpu = process.cpuUsage();
  return () => {
    let peakRssBytes = process.resourceUsage().maxRSS * 1024;
    if (ownPeak) {
      const hwm = /^VmHWM:\s*(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
      if (hwm) peakRssBytes = Number(hwm[1]) * 1024;
    }
    const used = process.cpuUsage(cpu);
    return { peakRssBytes, rssBytes: process.memoryUsage.rss(), cpuSeconds: (used.user + used.system) / 1e6 };
  };
}

async function run(message: Extract<ToRunner, { type: 'run' }>): Promise<void> {
  const { job } = message;
  const n = ++jobs;
  const listeners = new Map(PROCESS_EVENTS.map((e) => [e as string, process.listeners(e as NodeJS.Signals) as ((...args: unknown[]) => void)[]]));
  const resourcesBefore = countResources();
  const usage = startUsage();
  forgetStarts();
  const backend = new RemoteBackend(job.jobId);
  current = backend;
  setBackend(backend);
  let live = true;
  let pc: ProgramContext | null = null;
  let end: Extract<FromRunner, { type: 'result' | 'error' }>;
  try {
    // The job's directory and variables come with it.
    if (message.cwd) process.chdir(message.cwd);
    if (message.env) Object.assign(process.env, message.env);
    pc = new ProgramContext({
      taskId: job.jobId,
      script: job.script,
      data: job.data,
      rootFile: job.rootFile,
      entrypoint: job.entrypoint,
      timeRequest: job.timeRequest,
      timeLimit: job.timeLimitSeconds,
      computeOnly: job.computeOnly,
      queue: job.queue,
      name: job.name,
      params: job.params,
      inputFile: job.inputFile,
      inputDir: job.inputDir,
      outputDir: job.outputDir,
      retry: job.attempt - 1,
    });
    // Progress goes to the worker at once while the script reports a few changes a second (a step
    // opened just before a long synchronous call is seen during it), and as the latest snapshot
    // every PROGRESS_EVERY_MS when it reports more (a script may open thousands of steps a
    // second). A context the script kept (in a timer, say) reports nothing once its job is over.
    const jobContext = pc;
    let tokens = PROGRESS_BURST;
    let refilled = performance.now();
    ProgramContext.attachReporter(pc, () => {
      if (!live || progressTimer) return;
      const now = performance.now();
      tokens = Math.min(PROGRESS_BURST, tokens + (now - refilled) / PROGRESS_EVERY_MS);
      refilled = now;
      if (tokens >= 1) {
        tokens -= 1;
        void send({ type: 'progress', progress: jobContext.progress });
        return;
      }
      progressTimer = setTimeout(() => {
        progressTimer = undefined;
        if (live) void send({ type: 'progress', progress: jobContext.progress });
      }, PROGRESS_EVERY_MS);
    });
    void send({ type: 'progress', progress: pc.progress }); // the job is RUNNING from here
    const entrypoint = await loadEntrypoint(job.script, job.entrypoint, n, message.code);
    const returned = await callEntrypoint(entrypoint, pc, job.params);
    await settleStarts();
    const value = checkedResult(returned);
    pc.progressStop();
    end = { type: 'result', value, progress: pc.progress };
  } catch (err) {
    end = { type: 'error', error: errorInfo(err), progress: pc?.progress ?? null };
  }
  live = false;
  clearTimeout(progressTimer); // the job's end carries its last progress
  progressTimer = undefined;
  backend.close();
  current = null;
  forgetStarts();
  restore(listeners);
  // After all of the job's output: the activity reads up to these lines, then stops copying it to the job's log.
  if (message.endMarker) {
    process.stdout.write(`${message.endMarker}\n`);
    process.stderr.write(`${message.endMarker}\n`);
  }
  await send({ ...end, usage: usage() });
  // The job has its answer; whether this process may serve another is told apart.
  const retire = await leftovers(resourcesBefore);
  await send({ type: 'idle', ...(retire ? { retire } : {}) });
}

function main(): void {
  if (!process.send) {
    console.error('runner: start me through the runScript activity (needs an IPC channel)');
    process.exit(2);
  }
  const umask = process.umask(0o022); // reading it means setting it
  process.umask(umask);
  baseline = { cwd: process.cwd(), env: { ...process.env }, umask };
  process.on('disconnect', () => {
    // The worker is gone: take the whole process group (the script's own children) with us.
    try {
      process.kill(-process.pid, 'SIGKILL');
    } catch {
      process.exit(1);
    }
  });
  // What a script throws outside its entrypoint's promise fails its job, and the process, whose
  // state nobody knows any more, exits (the pool replaces it).
  const fail = (err: unknown) => {
    const message: FromRunner = { type: 'error', error: errorInfo(err), progress: null, retire: 'the script threw outside its entrypoint' };
    void (current ? send(message) : Promise.resolve()).then(() => process.exit(0));
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  // Node opens stdout and stderr on first use: opened now (by a call that does nothing else), they
  // are not counted as pipes the first job left open (the runner writes its end markers on them).
  process.stdout.uncork();
  process.stderr.uncork();
  // Stack traces name the lines of the script's own source (compiled with an inline source map).
  process.setSourceMapsEnabled(true);
  // Started ahead of its job (the worker's pool): load the 3D library now, so that a job that
  // uses it does not wait. PIXYZ_PRELOAD: geometry (default), all (the CAD/FBX/IFC WebAssembly
  // too), none.
  const preload = process.env.PIXYZ_PRELOAD ?? 'geometry';
  if (!['geometry', 'all', 'none'].includes(preload)) console.warn(`PIXYZ_PRELOAD=${preload}: expected geometry, all or none; nothing is preloaded`);
  let warm = Promise.resolve();
  if (preload === 'geometry' || preload === 'all') {
    require('../geometry');
    warm = (require('../geometry/preload') as typeof import('../geometry/preload')).preloadGeometry(preload);
  }
  // TypeScript for what scripts require, registered once the runner's own modules are loaded (tsx
  // would look at each of them: ~0.2 s of CPU with the 3D library); the SDK's resolution after
  // it, so that it is asked first.
  installTypeScriptRequire();
  installSdkResolution();
  const hooks = installImportResolution();
  let busy = false;
  process.on('message', (message: ToRunner) => {
    if (message.type === 'reply') current?.settle(message);
    else if (message.type === 'run' && !busy) {
      // The pool hands a process one job at a time.
      busy = true;
      void run(message).finally(() => (busy = false));
    }
  });
  // Ready once warm: a first job finds no preload or loader still reading its files (which it
  // would be blamed for leaving behind). Messages sent before a listener exists would be lost.
  void Promise.all([warm, hooks.catch(() => {})])
    .then(fileRequestsDone)
    .then(() => send({ type: 'ready' }));
}

main();
