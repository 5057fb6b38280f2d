import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import type { FromRunner } from '../shared/protocol';

/** A script process started ahead of time, waiting for its job. */
export interface PooledRunner {
  child: ChildProcess;
  /** Resolves once it said `ready` (Node, TypeScript support and the SDK loaded). */
  ready: Promise<void>;
}

export interface RunnerPoolOptions {
  /** Idle script processes kept ready; 0 starts each one on demand. */
  size: number;
  runner: string;
  execArgv: string[];
  /** The scrubbed environment every script process starts with. */
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Added to each script process's niceness (lower priority); what it starts inherits it. */
  niceness?: number;
}

/**
 * Script processes started before they are needed: starting Node with TypeScript support takes
 * about 0.3 s, which a job no longer waits for. Each process runs one job, then exits (jobs
 * never share a process); the pool starts a new one to replace it.
 */
export class RunnerPool {
  private readonly idle: PooledRunner[] = [];
  private closed = false;

  constructor(private readonly opts: RunnerPoolOptions) {}

  private start(): PooledRunner {
    const child = fork(this.opts.runner, [], {
      execArgv: this.opts.execArgv,
      cwd: this.opts.cwd,
      env: this.opts.env,
      detached: true, // its own process group, killed as one
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
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
        resolve();
      };
      child.on('message', onMessage);
      child.once('exit', (code, signal) => reject(new Error(`the script process exited before it was ready (${signal ?? `code ${code}`})`)));
      child.once('error', reject);
    });
    ready.catch(() => {});
    const entry = { child, ready };
    child.once('exit', () => {
      const i = this.idle.indexOf(entry);
      if (i >= 0) this.idle.splice(i, 1);
    });
    return entry;
  }

  private refill(): void {
    while (!this.closed && this.idle.length < this.opts.size) this.idle.push(this.start());
  }

  /** A script process for one job: an idle one if there is, else a new one. */
  take(): PooledRunner {
    let runner = this.idle.shift();
    while (runner && (runner.child.exitCode !== null || !runner.child.connected)) runner = this.idle.shift();
    runner ??= this.start();
    setImmediate(() => this.refill());
    return runner;
  }

  /** Starts the idle processes (the worker calls this when it starts). */
  warm(): void {
    this.refill();
  }

  close(): void {
    this.closed = true;
    for (const { child } of this.idle.splice(0)) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}
