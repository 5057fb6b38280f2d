import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CONTROL_QUEUE, DEFAULT_SCRIPT_QUEUE } from '../shared/queues';
import { isInside } from '../shared/share';
import type { ProgressSnapshot, TaskSignature } from '../shared/types';
import { AsyncResult } from './async-result';
import { currentBackend, setBackend } from './backend';
import { start } from './canvas';
import { LOCAL_JOB_ID, LocalBackend } from './local';
import { PixyzSecurityViolation, PixyzSharedDirectoryNotFound } from './errors';
import { assertSerializable } from './serializable';
import { Progress } from './progress';

/** Everything a context holds; all of it is JSON. Upstream's keys, camelCased. */
export interface ProgramContextOptions {
  taskId?: string | null;
  script?: string | null;
  /** The uploaded 3D file or archive. */
  data?: string | null;
  /** The file to load inside an archive `data`. */
  rootFile?: string | null;
  tmp?: boolean;
  isLocal?: boolean;
  entrypoint?: string;
  timeRequest?: string;
  timeLimit?: number | null;
  raw?: boolean;
  computeOnly?: boolean;
  queue?: string | null;
  name?: string | null;
  params?: unknown;
  inputFile?: string | null;
  inputDir?: string | null;
  outputDir?: string | null;
  retry?: number;
  [extra: string]: unknown;
}

const DEFAULTS = {
  computeOnly: false,
  data: null,
  rootFile: null,
  tmp: true,
  isLocal: false,
  entrypoint: 'main',
  raw: false,
} as const;

const REPORTER = Symbol('reporter');

/** Options of one sub-task, beyond what its context says. */
export interface ExecuteOptions {
  /** Queue of the sub-task; default: the process's own (`process`), else its context's queue, or `cpu` when that is `control`. */
  queue?: string;
  /** Function of the script to run; default: the context's `entrypoint`. */
  entrypoint?: string;
  /** Run limit in seconds; default: the process's own (`process`), else the job's. */
  timeLimit?: number;
  /** Return the entrypoint's value as is (default: the context's `raw`). */
  raw?: boolean;
  computeOnly?: boolean;
  name?: string;
  /** Run the entrypoint of a predefined process (a script in PROCESS_PATH, TypeScript or Python) instead of this job's script. */
  process?: string;
}

/**
 * The context handed to every entrypoint as `(pc, params)`: where the job's files are, its
 * progress, and its sub-tasks (execute, signature and the canvases).
 */
export class ProgramContext {
  readonly options: ProgramContextOptions;
  private readonly progressTracker: Progress;
  private [REPORTER]: (() => void) | undefined;

  constructor(options: ProgramContextOptions = {}) {
    this.options = { ...DEFAULTS, timeRequest: new Date().toISOString(), ...options };
    assertSerializable(this.options, 'ProgramContext');
    this.progressTracker = new Progress(() => this[REPORTER]?.());
  }

  /** Merges `changes` into this context and returns it. */
  update(changes: ProgramContextOptions): this {
    assertSerializable(changes, 'ProgramContext.update');
    Object.assign(this.options, changes);
    return this;
  }

  /** A new context with this one's options, a new request time and `changes` applied. */
  clone(changes: ProgramContextOptions = {}): ProgramContext {
    const copy = structuredClone(this.options);
    return new ProgramContext({ ...copy, timeRequest: new Date().toISOString(), ...changes });
  }

  get taskId(): string | null {
    return this.options.taskId ?? null;
  }

  get params(): unknown {
    return this.options.params;
  }

  // Progress, as upstream: set a total, open steps one after another, stop.
  progressStart(): void {
    this.progressTracker.start();
  }

  progressSetTotal(total: number): void {
    this.progressTracker.setTotal(total);
  }

  progressNext(info?: string): void {
    this.progressTracker.next(info);
  }

  progressStop(): void {
    this.progressTracker.stop();
  }

  get progress(): ProgressSnapshot {
    return this.progressTracker.snapshot();
  }

  /**
   * Describes one sub-task running this context's entrypoint with `params`, for group(),
   * chain() and chord() (upstream's `pixyz_execute.s(params, pc)`). Leave `params` out in a chain
   * step to receive the previous step's result.
   */
  signature(params?: unknown, options: ExecuteOptions = {}): TaskSignature {
    assertSerializable(params, 'sub-task params');
    const o = this.options;
    const queue = options.queue ?? (o.queue && o.queue !== CONTROL_QUEUE ? o.queue : DEFAULT_SCRIPT_QUEUE);
    return {
      kind: 'task',
      id: randomUUID(),
      entrypoint: options.entrypoint ?? o.entrypoint ?? 'main',
      ...(params === undefined ? {} : { params }),
      queue,
      timeLimitSeconds: options.timeLimit ?? null,
      raw: options.raw ?? o.raw === true,
      // A context cloned from the running job's shares its directory; a fresh one gets its own.
      shareParent: o.taskId != null && o.taskId === currentBackend()?.jobId,
      data: o.data ?? null,
      rootFile: o.rootFile ?? null,
      computeOnly: options.computeOnly ?? o.computeOnly === true,
      name: options.name ?? null,
      ...(options.process ? { process: options.process, ...(options.queue === undefined ? { queueDefaulted: true } : {}) } : {}),
    };
  }

  /** Upstream's `.s()`: the same as signature(). */
  s(params?: unknown, options: ExecuteOptions = {}): TaskSignature {
    return this.signature(params, options);
  }

  /**
   * Starts a sub-task that runs this context's entrypoint with `params` and returns at once;
   * `await result.get()` waits for what it returns.
   */
  execute<T = unknown>(params?: unknown, options: ExecuteOptions = {}): AsyncResult<T> {
    return start<T>(this.signature(params ?? {}, options));
  }

  /** A result by id, e.g. one returned by an earlier job (upstream's `pc.AsyncResult(id)`). */
  AsyncResult<T = unknown>(id: string, kind: 'task' | 'canvas' = 'task'): AsyncResult<T> {
    return new AsyncResult<T>(id, kind);
  }

  /** Upstream parity: joining never blocks the worker here, so there is nothing to allow. */
  allowJoinResult<T>(fn?: () => T): T | undefined {
    return fn?.();
  }

  /** The job's input directory, or a file in it. */
  getInputDir(file?: string): string {
    return inside(this.options.inputDir, 'input', file, this.isComputeOnly());
  }

  /** The job's output directory (what the user downloads), or a file in it. */
  getOutputDir(file?: string): string {
    return inside(this.options.outputDir, 'output', file, this.isComputeOnly());
  }

  /** The uploaded file, or the root file of an uploaded archive; null when the job has none. */
  getInputFile(): string | null {
    return this.options.inputFile ?? null;
  }

  isComputeOnly(): boolean {
    return this.options.computeOnly === true;
  }

  isLocal(): boolean {
    return this.options.isLocal === true;
  }

  toJSON(): ProgramContextOptions {
    return this.options;
  }

  /**
   * A context for running `script` on this machine (local mode): `outputDir` defaults to the
   * current directory, and sub-tasks run in this process.
   */
  static fromLocal(script: string, inputPath?: string | null, outputDir?: string | null): ProgramContext {
    const scriptPath = path.resolve(script);
    const input = inputPath ? path.resolve(inputPath) : null;
    const out = path.resolve(outputDir ?? process.cwd());
    fs.mkdirSync(out, { recursive: true });
    if (!currentBackend()) setBackend(new LocalBackend({ script: scriptPath, outputDir: out, inputFile: input }, (options) => new ProgramContext(options)));
    return new ProgramContext({
      taskId: LOCAL_JOB_ID,
      script: scriptPath,
      data: input,
      inputFile: input,
      inputDir: input ? path.dirname(input) : null,
      outputDir: out,
      isLocal: true,
    });
  }

  /** @internal Called at each progress change (read `pc.progress` for the snapshot): the runner forwards progress to the worker through this. */
  static attachReporter(pc: ProgramContext, reporter: () => void): void {
    pc[REPORTER] = reporter;
  }
}

function inside(dir: string | null | undefined, kind: string, file: string | undefined, computeOnly: boolean): string {
  if (!dir) {
    throw new PixyzSharedDirectoryNotFound(
      computeOnly ? `a compute-only job has no ${kind} directory` : `this job has no ${kind} directory`,
    );
  }
  if (file === undefined) return dir;
  const target = path.resolve(dir, file);
  if (!isInside(dir, target)) {
    throw new PixyzSecurityViolation(`'${file}' is outside the job's ${kind} directory`);
  }
  return target;
}
