import { randomUUID } from 'node:crypto';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory, CancelledFailure } from '@temporalio/common';
import { ensureRuntime, keepRuntime } from '../../tools/build-runtime.cjs';
import { PYTHON_PACKAGE_DIR, REPO_ROOT } from '../shared/config';
import { NON_RETRYABLE_ERROR_TYPES } from '../shared/errors';
import type { FromRunner, ScriptErrorInfo, ScriptJob, ScriptUsage, ToRunner } from '../shared/protocol';
import { fromShare, isPartialFile, jobPaths, logFile } from '../shared/share';
import { isPythonScript } from '../shared/processes';
import type { ProgressSnapshot, RunScriptInput, RunScriptOutput } from '../shared/types';
import type { ComputeSlots, ScriptSlot } from './compute-slots';
import { killGroup, RunnerPool } from './runner-pool';
import { ScriptSupervisor } from './script-supervisor';
import { scriptEnding } from './script-ending';
import { finalRecord } from '../shared/final-state';
import { CompiledScripts, commonJsOf } from '../shared/script-code';
import { ensureJobDirectories, outputsAreEmpty, recordFinalState } from './share';
import { answer, type SubTaskDeps } from './sub-tasks';
import { scriptRunningSignal } from '../shared/definitions';

/** Heartbeat this often even without progress: a cancel reaches an activity only in a heartbeat reply. */
export const HEARTBEAT_INTERVAL_MS = 250;
/** How long the job's last output may trail its answer before the process is deemed unfit for another job. */
const OUTPUT_END_WAIT_MS = 1000;
/** How long a killed process's pipes may take to drain into the job's log. */
const STREAMS_CLOSE_WAIT_MS = 2000;
const LOG_TAIL_BYTES = 2048;

/**
 * tsx compiles a script's own TypeScript files (its helpers) with this tsconfig
 * (TSX_TSCONFIG_PATH), never one found from the process's working directory — the shared
 * temporary folder, where anyone may put one, or the directory of the job that first needed tsx,
 * whose options would then hold for every later job of the process.
 */
const SCRIPT_TSCONFIG = path.join(REPO_ROOT, 'src', 'sdk', 'script-tsconfig.json');

/** A script process: the module to fork, its Node flags and the variables it adds to its environment. */
export interface ScriptRunner {
  module: string;
  execArgv: string[];
  env: Record<string, string>;
  /** The runtime build it runs from, when it does. */
  tree?: string;
}

/** The runner in TypeScript, run with tsx: when its JavaScript build cannot be had. */
const RUNNER_SOURCE = path.join(REPO_ROOT, 'src', 'sdk', 'runner.ts');
// Resolved by absolute path: the script process does not run inside the repository.
const TSX_LOADER = pathToFileURL(require.resolve('tsx')).href;

/**
 * The script process's module and Node flags (with the heap cap when one is set): the runner's
 * JavaScript build (tools/build-runtime.cjs; built at install, and again here when the sources
 * changed since), or, failing it, the TypeScript source under tsx.
 */
export function scriptRunner(maxMemoryMb = 0, log: (message: string) => void = () => {}): ScriptRunner {
  const heap = maxMemoryMb > 0 ? [`--max-old-space-size=${maxMemoryMb}`] : [];
  try {
    const tree = ensureRuntime({ log });
    return {
      module: path.join(tree, 'src', 'sdk', 'runner.js'),
      // Source maps: a trace through the SDK names its TypeScript lines, as the scripts' own do.
      execArgv: ['--enable-source-maps', ...heap],
      // tsx compiles only a script's helpers here, in memory: its disk cache writes each new file
      // after the job has answered, which the runner would take for a request the job left running.
      env: { TSX_TSCONFIG_PATH: SCRIPT_TSCONFIG, TSX_DISABLE_CACHE: '1' },
      tree,
    };
  } catch (err) {
    log(`script processes load TypeScript (slower to start): their JavaScript could not be built: ${(err as Error).message}`);
    const source = sourceRunner();
    return { ...source, execArgv: [...source.execArgv, ...heap] };
  }
}

/** The runner from its TypeScript source under tsx, as when the build cannot be had (for tests and benchmarks). */
export function sourceRunner(): ScriptRunner {
  return { module: RUNNER_SOURCE, execArgv: ['--import', TSX_LOADER], env: { TSX_TSCONFIG_PATH: SCRIPT_TSCONFIG } };
}

export interface ScriptActivityDeps extends SubTaskDeps {
  sharePath: string;
  /** The compute slots of a task queue (CONCURRENT_TASKS), when its worker bounds scripts with them. */
  computeSlots?: (taskQueue: string) => ComputeSlots | undefined;
}

export interface ScriptPoolDeps {
  scriptMaxMemoryMb: number;
  /** The interpreter of Python job scripts (PIXYZ_PYTHON). */
  python: string;
  /** Niceness added to each script process (0: the worker's own priority). */
  niceness?: number;
  /** Idle script processes kept ready by each pool, Node's and Python's (RUNNER_POOL_SIZE). */
  poolSize: number;
  /** Jobs one script process serves before it is replaced (RUNNER_MAX_JOBS). */
  maxJobs: number;
  /** Resident memory (MiB) past which a script process is replaced after its job (RUNNER_MAX_MEMORY_MB); 0: no bound. */
  maxMemoryMb: number;
  /** The worker's environment, scrubbed before a script sees it. */
  env: NodeJS.ProcessEnv;
  /** Where the pools say what they did at start (building the runner's JavaScript, or failing to). */
  log?: (message: string) => void;
}

/** Job scripts compiled to CommonJS by this worker, by content, for its script processes. */
const compiledScripts = new CompiledScripts();
/** How long a job waits for its script's compilation (a first one starts esbuild's service) before its process compiles it. */
const COMPILE_WAIT_MS = 5000;

/** The script as CommonJS (null: an ES module), or undefined when esbuild did not answer in time. */
async function compiledCode(script: string): Promise<string | null | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, COMPILE_WAIT_MS, undefined)));
  try {
    return await Promise.race([commonJsOf(script, compiledScripts), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts pixyz_worker.runner with nothing of the working directory on sys.path. */
const PYTHON_RUNNER_BOOTSTRAP = "import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; import runpy; runpy.run_module('pixyz_worker.runner', run_name='__main__', alter_sys=True)";

/** The script processes of one worker, TypeScript and Python: each pool started ahead, reused, with a scrubbed environment. */
export class ScriptPools {
  constructor(
    readonly node: RunnerPool,
    readonly python: RunnerPool,
    /** Stops marking the runner's build as in use. */
    private readonly release: () => void = () => {},
  ) {}

  for(script: string): RunnerPool {
    return isPythonScript(script) ? this.python : this.node;
  }

  warm(): void {
    this.node.warm();
    this.python.warm();
  }

  close(): void {
    this.node.close();
    this.python.close();
    this.release();
  }
}

export function createRunnerPools(deps: ScriptPoolDeps): ScriptPools {
  const env = scriptEnvironment(deps.env);
  const common = { size: deps.poolSize, cwd: os.tmpdir(), niceness: deps.niceness ?? 0, maxJobs: deps.maxJobs, maxMemoryMb: deps.maxMemoryMb };
  const { tree, env: runnerEnv, ...runner } = scriptRunner(deps.scriptMaxMemoryMb, deps.log);
  const node = new RunnerPool({ ...common, runner, env: { ...env, ...runnerEnv } });
  const python = new RunnerPool({
    ...common,
    // Not `-m`: it would put the working directory (the shared temporary folder) first on
    // sys.path, where any process may plant a module named like one of the standard library.
    runner: { program: deps.python, args: ['-u', '-c', PYTHON_RUNNER_BOOTSTRAP] },
    // `pixyz_worker` from this checkout, whatever interpreter PIXYZ_PYTHON names.
    env: { ...env, PYTHONPATH: [PYTHON_PACKAGE_DIR, env.PYTHONPATH].filter(Boolean).join(path.delimiter), PYTHONUNBUFFERED: '1' },
  });
  return new ScriptPools(node, python, tree ? keepRuntime(tree) : undefined);
}

/** What a script may see of the worker's environment: no API key, no Temporal credentials. */
export function scriptEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) {
    if (/^(TEMPORAL_|GOD_PASSWORD|PIXYZ_API_KEY|API_KEY_FILE$|NODE_OPTIONS$|npm_)/i.test(key)) continue;
    out[key] = value;
  }
  return out;
}

/** The script file of a job: an upload in the share, or a predefined process's (from PROCESS_PATH, kept relative to the repository). */
export function scriptPath(sharePath: string, process: string, script: string): string {
  return process === 'custom' ? fromShare(sharePath, script) : path.resolve(REPO_ROOT, script);
}

function readTail(file: string | null): string {
  if (!file) return '';
  try {
    const size = fs.statSync(file).size;
    const fd = fs.openSync(file, 'r');
    try {
      const length = Math.min(size, LOG_TAIL_BYTES);
      const buf = Buffer.alloc(length);
      fs.readSync(fd, buf, 0, length, size - length);
      return buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

/**
 * How a script ended is the job's business (its log and its error say it), not a fault of the
 * worker's: Temporal's SDK logs such failures at debug level, not as a warning with the task token.
 */
const SCRIPT_ENDING = ApplicationFailureCategory.BENIGN;

function scriptFailure(error: ScriptErrorInfo, progress: ProgressSnapshot | null, attempt: number): ApplicationFailure {
  const failure = ApplicationFailure.create({
    type: error.type,
    message: error.message,
    nonRetryable: (NON_RETRYABLE_ERROR_TYPES as readonly string[]).includes(error.type),
    details: [{ errorName: error.name, stack: error.stack, progress, attempt }],
    category: SCRIPT_ENDING,
  });
  if (error.stack) failure.stack = error.stack;
  return failure;
}

export function createScriptActivities(deps: ScriptActivityDeps, pools: ScriptPools) {
  return {
    /**
     * Runs a job script in its own process group and returns what its entrypoint returned (while
     * it waits on sub-tasks, it lends its CONCURRENT_TASKS slot).
     * With `ownsShare`, also does what prepareShare would have (the job's directories) and tells
     * whether the job's outputs are complete and empty (nothing to zip); with `recordsSuccess`,
     * records a success when nothing follows it in the workflow.
     */
    async runScript(input: RunScriptInput): Promise<RunScriptOutput> {
      const ctx = Context.current();
      if (input.ownsShare) {
        ensureJobDirectories(deps.sharePath, input.job.jobId, input.job.data);
        // A retry after a lost worker: the killed attempt's half-written models are not outputs.
        if (ctx.info.attempt > 1) removePartialFiles(jobPaths(deps.sharePath, input.job.jobId).outputs, (pid) => !isAlive(pid));
      }
      const slot = deps.computeSlots?.(ctx.info.taskQueue)?.forScript();
      let announce: NodeJS.Timeout | undefined;
      try {
        const execution = ctx.info.workflowExecution;
        if (input.announceRunningAfterMs !== undefined && execution) {
          const { workflowId, runId } = execution;
          announce = setTimeout(() => {
            // A lost signal only delays what lists show; the job itself is unaffected.
            ctx.client.workflow.getHandle(workflowId, runId).signal(scriptRunningSignal).catch(() => {});
          }, input.announceRunningAfterMs);
        }
        const seen = { spawned: false };
        const out = await runInProcess(input, slot, ctx, seen);
        // Sub-tasks (a clone writes into this job's outputs/, maybe after this script returned)
        // or outputs to zip mean the job is not over yet: the workflow records it then.
        const outputsEmpty = input.ownsShare ? !seen.spawned && outputsAreEmpty(deps.sharePath, input.job.jobId) : undefined;
        const recorded = !!input.recordsSuccess && !seen.spawned && outputsEmpty !== false;
        if (recorded) {
          const record = finalRecord(input.job, { status: 'SUCCESS', result: out.result, error: null, progress: out.progress, retry: out.attempt - 1 }, new Date().toISOString());
          try {
            recordFinalState(deps.sharePath, record, true);
          } catch {
            // As when the workflow recorded it: a state.json lost to a broken share does not fail the job.
          }
        }
        return {
          ...out,
          ...(outputsEmpty === undefined ? {} : { outputsEmpty, spawned: seen.spawned }),
          ...(input.recordsSuccess ? { recorded } : {}),
        };
      } finally {
        clearTimeout(announce);
        slot?.end();
      }
    },
  };

  /**
   * Runs the script in a pooled process of its own process group. Progress becomes heartbeat
   * details; a cancel or time-out kills the whole group.
   */
  async function runInProcess(
    { job, inputFile }: RunScriptInput,
    slot: ScriptSlot | undefined,
    ctx: Context,
    seen: { spawned: boolean },
  ): Promise<RunScriptOutput> {
    // A sub-task from pc.clone() works in its parent's directory, with a log of its own.
    const paths = job.computeOnly ? null : jobPaths(deps.sharePath, job.shareOf ?? job.jobId);
    const logPath = paths ? logFile(deps.sharePath, job.jobId, job.shareOf) : null;
    const scriptJob: ScriptJob = {
      jobId: job.jobId,
      script: scriptPath(deps.sharePath, job.process, job.script),
      entrypoint: job.entrypoint,
      params: job.params,
      name: job.name,
      queue: job.queue,
      timeLimitSeconds: job.timeLimitSeconds,
      computeOnly: job.computeOnly,
      timeRequest: job.timeRequest,
      data: job.data === null ? null : fromShare(deps.sharePath, job.data),
      rootFile: job.rootFile,
      inputFile: inputFile === null ? null : fromShare(deps.sharePath, inputFile),
      inputDir: paths?.inputs ?? null,
      outputDir: paths?.outputs ?? null,
      attempt: ctx.info.attempt,
    };

    // The script's stdout and stderr go to its log (the worker's own output for compute-only jobs).
    // The log's own lines are written directly (a job that prints nothing costs no write through
    // libuv's thread pool); the script's output goes through a stream, with back-pressure.
    let log: NodeJS.WritableStream = process.stdout;
    let logFd: number | null = null;
    if (paths && logPath) {
      fs.mkdirSync(paths.logs, { recursive: true, mode: 0o755 });
      logFd = fs.openSync(logPath, 'a', 0o644);
      const after = ctx.info.attempt > 1 ? previousAttempt(logPath, ctx.info.attempt - 1) : '';
      fs.writeSync(logFd, `--- ${new Date().toISOString()} attempt ${ctx.info.attempt} on ${ctx.info.taskQueue}${after}\n`);
      log = fs.createWriteStream('', { fd: logFd, autoClose: false });
    }
    const pool = pools.for(scriptJob.script);
    // Compiled here, once per content: script processes need no compiler. Should esbuild fail or
    // stall, the process compiles the script itself (code undefined).
    const code = pool === pools.node ? await compiledCode(scriptJob.script) : undefined;
    const runner = await pool.take();
    const { child, ready } = runner;
    // Unique to this job: a script cannot end its own log early by printing it.
    const endMarker = `\u001e--- end of job ${job.jobId} ${randomUUID()}`;
    const outputDone = runner.output.attach(log, endMarker);
    let onClose!: () => void;
    const streamsClosed = new Promise<void>((resolve) => (onClose = resolve));
    child.once('close', onClose);

    let latest: ProgressSnapshot | null = null;
    let outcome: Extract<FromRunner, { type: 'result' | 'error' }> | undefined;
    let answered!: () => void;
    const replied = new Promise<void>((resolve) => (answered = resolve)); // with its result or error
    let released = false; // the process may serve another job: no late reply for this one
    const requests = new AbortController(); // what the script asked and still waits for ends with its job
    const onMessage = (message: FromRunner) => {
      if (message.type === 'request') {
        const { type: _t, requestId, ...request } = message;
        if (request.op === 'spawn') seen.spawned = true;
        // A join waits on sub-tasks: the script computes nothing meanwhile, its slot is lent.
        const ask = () => answer(request, deps, ctx, requests.signal);
        const answering = request.op === 'join' && slot ? slot.waiting(ask) : ask();
        void answering.then((reply) => {
          if (child.connected && !released) child.send({ type: 'reply', requestId, ...reply } satisfies ToRunner, ignoreGone);
        });
      } else if (message.type === 'progress') {
        // Sent with the next beat (within HEARTBEAT_INTERVAL_MS): a job shorter than that
        // costs Temporal no heartbeat at all.
        latest = message.progress;
      } else if (message.type === 'result' || message.type === 'error') {
        outcome = message;
        if (message.progress) latest = message.progress;
        answered();
      }
    };
    child.on('message', onMessage);
    const run: ToRunner = {
      type: 'run',
      job: scriptJob,
      cwd: paths?.outputs ?? path.dirname(scriptJob.script),
      env: { PIXYZ_JOB_ID: job.jobId },
      endMarker,
      ...(code === undefined ? {} : { code }),
    };
    ready.then(
      () => child.connected && child.send(run, ignoreGone),
      () => {}, // it exited: reported below like any exit without a result
    );
    const beat = setInterval(() => ctx.heartbeat(latest ?? undefined), HEARTBEAT_INTERVAL_MS);
    // A cancel, or the time limit (enforced here, so the script is gone before Temporal's own,
    // later, start-to-close timeout lets another attempt start), kills the whole group.
    const supervisor = new ScriptSupervisor(child, job.timeLimitSeconds, ctx.cancellationSignal);
    // The job ends with its result or error (the process lives on), or with the process.
    let exit = await Promise.race([supervisor.exited, replied.then(() => null)]);
    // A script being killed is over only once it is gone.
    if (supervisor.killing) exit = await supervisor.exited;
    slot?.computed(); // the worker may poll for its next task while this one ends
    clearInterval(beat);
    supervisor.dispose();
    let outputEnded = false;
    if (exit === null) {
      // The runner writes its end markers before its answer: they are in the pipes by now.
      outputEnded = await Promise.race([outputDone, delay(OUTPUT_END_WAIT_MS, false)]);
    } else {
      killGroup(child, 'SIGKILL'); // whatever the script left running dies with it
      await Promise.race([streamsClosed, delay(STREAMS_CLOSE_WAIT_MS, undefined)]);
    }
    runner.output.detach();
    released = true;
    requests.abort();
    child.off('message', onMessage);
    child.off('close', onClose);
    // A script killed while saving a model leaves its temporary file: not an output. (Before the
    // process may serve a job that shares this directory and writes its own.)
    if (outcome?.type !== 'result' && paths && child.pid !== undefined) removePartialFiles(paths.outputs, child.pid);
    pool.release(runner, {
      retire: exit !== null ? 'it was killed or exited' : !outputEnded ? 'its output did not end with the job' : outcome?.retire,
      rssBytes: outcome?.usage?.rssBytes,
    });
    if (logFd !== null) {
      const fd = logFd;
      await new Promise<void>((resolve) => (log as fs.WriteStream).end(resolve));
      try {
        if (outcome?.usage) fs.writeSync(fd, `--- ${describeUsage(outcome.usage)}\n`);
      } finally {
        fs.closeSync(fd);
      }
    }

    try {
      return settle();
    } catch (err) {
      // The job's log says why this attempt ended (a retry's header repeats it).
      if (logPath && !(err instanceof CancelledFailure)) {
        try {
          // With the script's traceback, where it raised, first: the log alone tells what went wrong,
          // and the attempt's line stays last (the next attempt's header reads it from the log's tail).
          const stack = outcome?.type === 'error' ? outcome.error.stack : null;
          fs.appendFileSync(logPath, `${stack ? `${stack.trimEnd()}\n` : ''}--- attempt ${ctx.info.attempt} failed: ${(err as Error).message}\n`);
        } catch {
          // a log lost to a broken share does not change the job's outcome
        }
      }
      throw err;
    }

    /** What this attempt gives: the script's result, or the failure that says how it ended. */
    function settle(): RunScriptOutput {
      const cancel = ctx.cancellationDetails;
      const end = scriptEnding({
        timedOut: supervisor.timedOut,
        aborted: ctx.cancellationSignal.aborted,
        cancelRequested: !!cancel?.cancelRequested,
        workerShutdown: !!cancel?.workerShutdown,
        outcome,
        // A Python pool whose interpreter cannot start: say which setting names it.
        exit: exit?.error && pool === pools.python ? { ...exit, error: new Error(`${exit.error.message} (PIXYZ_PYTHON names the interpreter of Python scripts)`) } : exit,
        timeLimitSeconds: job.timeLimitSeconds,
      });
      switch (end.kind) {
        case 'result':
          return { result: end.value, progress: end.progress, attempt: ctx.info.attempt };
        case 'cancelled':
          // How far it got: the workflow records it with the job's REVOKED state.
          throw new CancelledFailure(end.message, latest ? [latest] : []);
        case 'script-error':
          throw scriptFailure(end.error, end.progress ?? latest, ctx.info.attempt);
        case 'failure':
          throw ApplicationFailure.create({
            type: end.type,
            message: end.message,
            nonRetryable: end.nonRetryable,
            category: SCRIPT_ENDING,
            ...(end.processExit ? { details: [{ errorName: 'ProcessExit', stack: null, progress: latest, logTail: readTail(logPath), attempt: ctx.info.attempt }] } : {}),
          });
      }
    }
  }
}

/**
 * How attempt `n` ended, from its line in the job's log, for the next attempt's header: written
 * by the attempt itself, or missing when its worker was lost (Temporal gave up on its heartbeat).
 */
function previousAttempt(logPath: string, n: number): string {
  const lines = readTail(logPath).split('\n').reverse();
  const prefix = `--- attempt ${n} failed: `;
  const line = lines.find((l) => l.startsWith(prefix));
  return line ? `, after attempt ${n} failed: ${line.slice(prefix.length)}` : `, after attempt ${n} was lost with its worker (it stopped answering)`;
}

const delay = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(resolve, ms, value));

/**
 * A message to a script process that died meanwhile (killed, crashed) fails with EPIPE: with no
 * callback Node would raise it in the worker; its exit tells the job what happened.
 */
const ignoreGone = () => {};

/**
 * The job log's last line: what the script process used during the job (its peak memory, which
 * includes what the process held before the job, is what sizes a worker).
 */
export function describeUsage(usage: ScriptUsage): string {
  return `script process: peak RSS ${(usage.peakRssBytes / 2 ** 20).toFixed(0)} MiB, CPU ${usage.cpuSeconds.toFixed(2)} s`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the temporary files (saveModel's `.<name>.<pid>.partial`) left under `dir` by process `pid` (or by the processes it accepts). */
export function removePartialFiles(dir: string, pid: number | ((pid: number) => boolean)): void {
  const left = typeof pid === 'number' ? (p: number) => p === pid : pid;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // no outputs/ (compute-only), or it went away
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) removePartialFiles(full, left);
    else if (entry.isFile() && isPartialFile(entry.name) && left(Number(/\.(\d+)\.partial$/.exec(entry.name)![1]))) fs.rmSync(full, { force: true });
  }
}
