// The script process. Started by the runScript activity with Node IPC; receives one `run`
// message, loads the job script, calls its entrypoint with (pc, params) and reports progress,
// then the result or the error. It never outlives its worker: when the IPC channel closes, it
// kills its process group and exits.
import { ErrorType } from '../shared/errors';
import {
  MAX_RESULT_BYTES,
  type FromRunner,
  type RunnerRequest,
  type ScriptErrorInfo,
  type ScriptJob,
  type ToRunner,
  usageOfThisProcess,
} from '../shared/protocol';
import type { Canvas, SpawnOutput } from '../shared/types';
import { setBackend, type Backend } from './backend';
import { settleStarts } from './canvas';
import { PixyzNotSerializable, SubTaskFailed } from './errors';
import { assertSerializable, ProgramContext } from './program-context';
import { installSdkResolution } from './resolve';
import { callEntrypoint, loadEntrypoint, ScriptLoadError } from './load';

/** Errors the runner raises about the script (not thrown by it), with their ErrorType. */
class RunnerError extends ScriptLoadError {}

/** Sub-tasks through the worker: each call is a request over IPC that the activity answers. */
class RemoteBackend implements Backend {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(readonly jobId: string) {
    process.on('message', (message: ToRunner) => {
      if (message.type !== 'reply') return;
      const waiter = this.waiting.get(message.requestId);
      if (!waiter) return;
      this.waiting.delete(message.requestId);
      if (message.ok) waiter.resolve(message.value);
      else waiter.reject(new SubTaskFailed(message.error.message, message.error.type, message.error.childId ?? null));
    });
  }

  private request(req: RunnerRequest): Promise<unknown> {
    const requestId = this.nextId++;
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

async function run(job: ScriptJob): Promise<void> {
  const pc = new ProgramContext({
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
  setBackend(new RemoteBackend(job.jobId));
  ProgramContext.attachReporter(pc, (progress) => void send({ type: 'progress', progress }));
  void send({ type: 'progress', progress: pc.progress }); // the job is RUNNING from here
  try {
    const entrypoint = await loadEntrypoint(job.script, job.entrypoint);
    const returned = await callEntrypoint(entrypoint, pc, job.params);
    await settleStarts();
    const value = checkedResult(returned);
    pc.progressStop();
    await send({ type: 'result', value, progress: pc.progress, usage: usageOfThisProcess() });
    process.exit(0);
  } catch (err) {
    await send({ type: 'error', error: errorInfo(err), progress: pc.progress, usage: usageOfThisProcess() });
    process.exit(0);
  }
}

function main(): void {
  if (!process.send) {
    console.error('runner: start me through the runScript activity (needs an IPC channel)');
    process.exit(2);
  }
  process.on('disconnect', () => {
    // The worker is gone: take the whole process group (the script's own children) with us.
    try {
      process.kill(-process.pid, 'SIGKILL');
    } catch {
      process.exit(1);
    }
  });
  const fail = (err: unknown) => {
    void send({ type: 'error', error: errorInfo(err), progress: null }).then(() => process.exit(0));
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  installSdkResolution();
  // Started ahead of its job (the worker's pool): load the 3D library now, so that a job that
  // uses it does not wait. PIXYZ_PRELOAD: geometry (default), all (the CAD/FBX/IFC WebAssembly
  // too), none.
  const preload = process.env.PIXYZ_PRELOAD ?? 'geometry';
  if (!['geometry', 'all', 'none'].includes(preload)) console.warn(`PIXYZ_PRELOAD=${preload}: expected geometry, all or none; nothing is preloaded`);
  if (preload === 'geometry' || preload === 'all') {
    require('../geometry');
    (require('../geometry/preload') as typeof import('../geometry/preload')).preloadGeometry(preload);
  }
  const onRun = (message: ToRunner) => {
    if (message.type !== 'run') return;
    process.off('message', onRun);
    // Started ahead of its job: the job's directory and variables come with it.
    if (message.cwd) process.chdir(message.cwd);
    if (message.env) Object.assign(process.env, message.env);
    void run(message.job);
  };
  process.on('message', onRun);
  void send({ type: 'ready' }); // messages sent before a listener exists would be lost
}

main();
