import { fork, spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import type { Readable } from 'node:stream';
import type { FromRunner } from '../shared/protocol';

/** Idle processes beyond the pool's size (left by a burst of jobs) are stopped after this long unused. */
export const IDLE_SURPLUS_MS = 60_000;
/**
 * How long a process may take, after its job's answer, to check what the job left behind (it
 * reads /proc: about a millisecond); one silent past it (a leftover callback of the script's
 * holding its event loop) is replaced.
 */
export const SETTLE_WAIT_MS = 1000;

/** A script process started ahead of time, serving one job after another. */
export interface PooledRunner {
  readonly child: ChildProcess;
  /** Resolves once it said `ready` (its runner and SDK loaded: Node with TypeScript support, or Python with pixyz_worker). */
  readonly ready: Promise<void>;
  /** Its stdout and stderr, copied to the log of the job it runs. */
  readonly output: RunnerOutput;
  /** Jobs it was given so far. */
  jobs: number;
  isReady: boolean;
  idleSince: number;
  /**
   * After its job, the process's own word on whether it may serve another (its `idle` message):
   * undefined until it came, then null (it may) or why not.
   */
  settled: string | null | undefined;
}

export interface RunnerPoolOptions {
  /** Idle script processes kept ready; 0 starts each one on demand. */
  size: number;
  /**
   * The runner: a Node module forked with its `execArgv`, or a program and its arguments (the
   * Python runner), which speaks the same protocol over the IPC channel (NODE_CHANNEL_FD).
   */
  runner: { module: string; execArgv: string[] } | { program: string; args: string[] };
  /** The scrubbed environment every script process starts with. */
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Added to each script process's niceness (lower priority); what it starts inherits it. */
  niceness?: number;
  /** Jobs a process serves before it is replaced (Celery's max_tasks_per_child); 1: one process per job. */
  maxJobs: number;
  /** Resident memory (MiB) past which a process is replaced after its job; 0: no bound. */
  maxMemoryMb: number;
}

/**
 * Script processes started before they are needed (starting Node with TypeScript support costs
 * about 0.3 s of CPU), each serving job after job as Celery's prefork children do. A process is
 * replaced after `maxJobs` jobs, when it was killed or crashed, when it holds more than
 * `maxMemoryMb` after a job, or when its job left something running; the pool then starts
 * another so that `size` processes wait idle.
 */
export class RunnerPool {
  private readonly idle: PooledRunner[] = [];
  /** Processes whose job ended, still checking what it left behind (see SETTLE_WAIT_MS). */
  private readonly settling = new Map<PooledRunner, NodeJS.Timeout>();
  /** take() calls waiting for a settling process. */
  private waiters: (() => void)[] = [];
  private closed = false;
  private trimTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: RunnerPoolOptions) {}

  private start(): PooledRunner {
    const options = {
      cwd: this.opts.cwd,
      env: this.opts.env,
      detached: true, // its own process group, killed as one
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'] as ('ignore' | 'pipe' | 'ipc')[],
      serialization: 'json' as const,
    };
    const { runner } = this.opts;
    const child = 'program' in runner ? spawn(runner.program, runner.args, options) : fork(runner.module, [], { ...options, execArgv: runner.execArgv });
    if (this.opts.niceness && child.pid !== undefined) {
      try {
        os.setPriority(child.pid, Math.min(19, os.getPriority(process.pid) + this.opts.niceness));
      } catch {
        // not permitted here (or already gone): the script runs at the worker's priority
      }
    }
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromRunner) => {
        if (m.type !== 'ready') return;
        child.off('message', onMessage);
        entry.isReady = true;
        resolve();
      };
      child.on('message', onMessage);
      child.once('exit', (code, signal) => reject(new Error(`the script process exited before it was ready (${signal ?? `code ${code}`})`)));
      child.once('error', reject);
    });
    const entry: PooledRunner = { child, ready, output: new RunnerOutput(child), jobs: 0, isReady: false, idleSince: Date.now(), settled: undefined };
    ready.catch(() => {});
    child.on('message', (m: FromRunner) => {
      if (m.type !== 'idle' || entry.settled !== undefined) return;
      entry.settled = m.retire ?? null;
      if (this.settling.has(entry)) this.settle(entry);
    });
    child.once('exit', () => {
      if (this.settling.has(entry)) {
        this.settle(entry);
        return;
      }
      const i = this.idle.indexOf(entry);
      if (i < 0) return;
      this.idle.splice(i, 1);
      // An idle process that died is replaced; one that never started is not (no fork loop).
      if (entry.isReady) this.refill();
    });
    return entry;
  }

  private refill(): void {
    while (!this.closed && this.idle.length + this.settling.size < this.opts.size) this.idle.push(this.start());
  }

  /**
   * A script process for one job: an idle one if there is; else one about to be (its last job
   * just answered); else one starting, or a new one.
   */
  async take(): Promise<PooledRunner> {
    for (;;) {
      for (let i = this.idle.length - 1; i >= 0; i--) if (!isAlive(this.idle[i]!.child)) this.idle.splice(i, 1);
      // The most recently used ready process (the others may then age out), else the oldest started.
      let i = this.idle.findLastIndex((r) => r.isReady);
      if (i < 0 && this.settling.size > 0) {
        // Free within a millisecond or so: cheaper than starting a process (Node with TypeScript: a third of a CPU second).
        await new Promise<void>((resolve) => this.waiters.push(resolve));
        continue;
      }
      if (i < 0 && this.idle.length > 0) i = 0;
      const runner = i >= 0 ? this.idle.splice(i, 1)[0]! : this.start();
      runner.jobs++;
      runner.settled = undefined;
      setImmediate(() => this.refill());
      return runner;
    }
  }

  /**
   * Takes a process back after its job. `retire` (why it must not serve another job: it was
   * killed, or its job left something behind) and the pool's own bounds decide whether it waits
   * for the next job or is killed with its process group and replaced.
   */
  release(runner: PooledRunner, end: { retire?: string | undefined; rssBytes?: number | undefined } = {}): void {
    const alive = isAlive(runner.child);
    const reason =
      end.retire ??
      (runner.settled || undefined) ??
      (this.closed
        ? 'the worker is stopping'
        : !alive
          ? 'it exited'
          : runner.jobs >= this.opts.maxJobs
            ? `it served ${runner.jobs} jobs`
            : this.opts.maxMemoryMb > 0 && (end.rssBytes ?? 0) > this.opts.maxMemoryMb * 2 ** 20
              ? `it holds ${Math.round(end.rssBytes! / 2 ** 20)} MiB`
              : undefined);
    if (reason !== undefined) {
      this.retire(runner);
      return;
    }
    if (runner.settled === undefined) {
      // Its `idle` message is on its way: the process waits for it outside the idle list.
      const timer = setTimeout(() => {
        runner.settled ??= `it did not say within ${SETTLE_WAIT_MS} ms whether its job left something running`;
        this.settle(runner);
      }, SETTLE_WAIT_MS);
      timer.unref();
      this.settling.set(runner, timer);
      return;
    }
    this.keep(runner);
  }

  /** A process's `idle` message came (or its wait ended): it waits for the next job, or is replaced. */
  private settle(runner: PooledRunner): void {
    clearTimeout(this.settling.get(runner));
    this.settling.delete(runner);
    if (runner.settled || !isAlive(runner.child) || this.closed) this.retire(runner);
    else this.keep(runner);
  }

  private keep(runner: PooledRunner): void {
    runner.idleSince = Date.now();
    this.idle.push(runner);
    if (this.idle.length > this.opts.size && !this.trimTimer) {
      this.trimTimer = setTimeout(() => this.trim(), IDLE_SURPLUS_MS);
      this.trimTimer.unref();
    }
    this.wake();
  }

  private retire(runner: PooledRunner): void {
    killGroup(runner.child);
    this.refill();
    this.wake();
  }

  /** Lets every waiting take() look again. */
  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Stops idle processes beyond the pool's size that waited longer than IDLE_SURPLUS_MS, oldest first. */
  private trim(): void {
    this.trimTimer = undefined;
    const now = Date.now();
    for (const runner of [...this.idle].sort((a, b) => a.idleSince - b.idleSince)) {
      if (this.idle.length <= this.opts.size) break;
      if (now - runner.idleSince < IDLE_SURPLUS_MS) continue;
      this.idle.splice(this.idle.indexOf(runner), 1);
      killGroup(runner.child);
    }
    if (this.idle.length > this.opts.size) {
      this.trimTimer = setTimeout(() => this.trim(), IDLE_SURPLUS_MS);
      this.trimTimer.unref();
    }
  }

  /** Starts the idle processes (the worker calls this when it starts). */
  warm(): void {
    this.refill();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.trimTimer);
    for (const { child } of this.idle.splice(0)) killGroup(child);
    for (const [runner, timer] of this.settling) {
      clearTimeout(timer);
      killGroup(runner.child);
    }
    this.settling.clear();
    this.wake();
  }
}

/** The process runs and its IPC channel is open: it can be given a job. */
function isAlive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null && child.connected;
}

/** Signals a script process and everything it started (its own process group). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

const EMPTY = Buffer.alloc(0);

interface StreamState {
  stream: Readable;
  /** The end of what was read that may be the start of the marker. */
  carry: Buffer;
  /** The job's marker was read, or the stream ended. */
  done: boolean;
  sawMarker: boolean;
  /** Paused until this sink drains. */
  blocked: { sink: NodeJS.WritableStream; resume: () => void } | null;
}

/**
 * The stdout and stderr of one script process. During a job, each is copied to the job's log
 * up to the marker line the runner writes after the job (IPC and the pipes are separate, so the
 * result may arrive before the job's last lines); the marker is not copied. Between jobs, what a
 * process writes belongs to no job: it goes to the worker's stderr, never to another job's log.
 */
export class RunnerOutput {
  private sink: NodeJS.WritableStream = process.stderr;
  private marker: Buffer | null = null;
  private readonly states: StreamState[];
  private onDone: ((clean: boolean) => void) | null = null;

  constructor(child: ChildProcess) {
    this.states = [child.stdout!, child.stderr!].map((stream) => ({ stream, carry: EMPTY, done: false, sawMarker: false, blocked: null }));
    for (const s of this.states) {
      s.stream.on('data', (chunk: Buffer) => this.data(s, chunk));
      s.stream.once('end', () => {
        this.write(s, s.carry);
        s.carry = EMPTY;
        s.done = true;
        this.check();
      });
    }
  }

  /**
   * Copies the output to `sink` until the runner writes `marker` on both streams (or they end);
   * resolves with true when both markers were read.
   */
  attach(sink: NodeJS.WritableStream, marker: string): Promise<boolean> {
    this.sink = sink;
    this.marker = Buffer.from(`${marker}\n`);
    for (const s of this.states) {
      s.carry = EMPTY;
      s.sawMarker = false;
      s.done = s.stream.readableEnded;
    }
    const done = new Promise<boolean>((resolve) => (this.onDone = resolve));
    this.check();
    return done;
  }

  /** Stops copying to the job's log (what a stream still held back goes there first). */
  detach(): void {
    for (const s of this.states) {
      if (!s.done) this.write(s, s.carry);
      s.carry = EMPTY;
      // An ending log never drains: a stream paused for it would block the process for good.
      if (s.blocked) {
        s.blocked.sink.off('drain', s.blocked.resume);
        s.blocked.resume();
      }
    }
    this.marker = null;
    this.sink = process.stderr;
    this.onDone?.(false);
    this.onDone = null;
  }

  private data(s: StreamState, chunk: Buffer): void {
    if (!this.marker || s.done) {
      this.write(s, chunk, process.stderr);
      return;
    }
    const buf = s.carry.length > 0 ? Buffer.concat([s.carry, chunk]) : chunk;
    s.carry = EMPTY;
    const at = buf.indexOf(this.marker);
    if (at >= 0) {
      this.write(s, buf.subarray(0, at));
      s.done = true;
      s.sawMarker = true;
      this.write(s, buf.subarray(at + this.marker.length), process.stderr);
      this.check();
      return;
    }
    const keep = partialMarker(buf, this.marker);
    this.write(s, buf.subarray(0, buf.length - keep));
    s.carry = buf.subarray(buf.length - keep);
  }

  private write(s: StreamState, bytes: Buffer, sink = this.sink): void {
    if (bytes.length === 0) return;
    // Backpressure as pipe() gives it: a script that writes faster than the disk waits.
    if (!sink.write(bytes) && !s.blocked) {
      const resume = () => {
        s.blocked = null;
        s.stream.resume();
      };
      s.blocked = { sink, resume };
      s.stream.pause();
      sink.once('drain', resume);
    }
  }

  private check(): void {
    if (!this.onDone || !this.states.every((s) => s.done)) return;
    const clean = this.states.every((s) => s.sawMarker);
    this.onDone(clean);
    this.onDone = null;
  }
}

/** How many bytes at the end of `buf` are the start of `marker`. */
function partialMarker(buf: Buffer, marker: Buffer): number {
  const first = buf.lastIndexOf(marker[0]!, buf.length - 1);
  if (first < 0 || buf.length - first >= marker.length) return 0;
  for (let k = Math.min(buf.length, marker.length - 1); k > 0; k--) {
    if (buf.subarray(buf.length - k).equals(marker.subarray(0, k))) return k;
  }
  return 0;
}
