// The script process. Started by the runScript activity with Node IPC; receives one `run`
// message, loads the job script, calls its entrypoint with (pc, params) and reports progress,
// then the result or the error. It never outlives its worker: when the IPC channel closes, it
// kills its process group and exits.
import Module, { register } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorType } from '../shared/errors';
import { MAX_RESULT_BYTES, type FromRunner, type ScriptErrorInfo, type ScriptJob, type ToRunner } from '../shared/protocol';
import { PixyzNotSerializable } from './errors';
import { assertSerializable, ProgramContext } from './program-context';

const SDK_ENTRY = path.join(__dirname, 'index.ts');

class RunnerError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** Makes 'pixyz-scheduler' resolve to this SDK, for `import` (ESM) and `require` (CJS) alike. */
function installSdkResolution(): void {
  register(pathToFileURL(path.join(__dirname, 'resolve-hook.mjs')), { data: { sdkUrl: pathToFileURL(SDK_ENTRY).href } });
  const mod = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const original = mod._resolveFilename;
  mod._resolveFilename = function (request: string, ...rest: unknown[]) {
    return request === 'pixyz-scheduler' ? SDK_ENTRY : original.call(this, request, ...rest);
  };
}

function send(message: FromRunner): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(message, undefined, {}, () => resolve());
  });
}

async function loadEntrypoint(job: ScriptJob): Promise<(pc: ProgramContext, params: unknown) => unknown> {
  const mod = (await import(pathToFileURL(job.script).href)) as Record<string, unknown>;
  // A script loaded as CommonJS shows its exports under `default` too.
  const fallback = mod.default as Record<string, unknown> | undefined;
  const fn = mod[job.entrypoint] ?? (fallback && typeof fallback === 'object' ? fallback[job.entrypoint] : undefined);
  if (typeof fn !== 'function') {
    throw new RunnerError(
      ErrorType.ScriptFailed,
      `The script file does not have the function ${job.entrypoint} (export it: export async function ${job.entrypoint}(pc, params))`,
    );
  }
  return fn as (pc: ProgramContext, params: unknown) => unknown;
}

function errorInfo(err: unknown): ScriptErrorInfo {
  if (err instanceof RunnerError) return { type: err.type, name: 'Error', message: err.message, stack: err.stack ?? null };
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
  ProgramContext.attachReporter(pc, (progress) => void send({ type: 'progress', progress }));
  void send({ type: 'progress', progress: pc.progress }); // the job is RUNNING from here
  try {
    const entrypoint = await loadEntrypoint(job);
    const value = checkedResult(await entrypoint(pc, job.params));
    pc.progressStop();
    await send({ type: 'result', value, progress: pc.progress });
    process.exit(0);
  } catch (err) {
    await send({ type: 'error', error: errorInfo(err), progress: pc.progress });
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
  process.once('message', (message: ToRunner) => {
    if (message.type === 'run') void run(message.job);
  });
  void send({ type: 'ready' }); // messages sent before a listener exists would be lost
}

main();
