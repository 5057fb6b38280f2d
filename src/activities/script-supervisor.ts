// One job's watch over its script process: time limit, cancel, the kill of its process group.
import type { ChildProcess } from 'node:child_process';
import { MAX_TIMER_MS } from '../shared/deadline';
import { killGroup } from './runner-pool';

/** After SIGTERM, a script's process group gets this long before SIGKILL. */
export const KILL_GRACE_MS = 1000;

export type Exit = { code: number | null; signal: NodeJS.Signals | null; error?: Error };

/**
 * One job's watch over its script process: the time limit and a cancel stop it (SIGTERM to its
 * whole process group, SIGKILL after KILL_GRACE_MS); `exited` settles when the process is gone.
 */
export class ScriptSupervisor {
  timedOut = false;
  readonly exited: Promise<Exit>;
  private killTimer: NodeJS.Timeout | undefined;
  private readonly limit: NodeJS.Timeout;
  private readonly onAbort = () => this.stop();
  private onExit!: (code: number | null, signal: NodeJS.Signals | null) => void;
  private onError!: (error: Error) => void;

  constructor(
    private readonly child: ChildProcess,
    timeLimitSeconds: number,
    private readonly cancelled: AbortSignal,
  ) {
    this.exited = new Promise<Exit>((resolve) => {
      this.onError = (error) => resolve({ code: null, signal: null, error });
      this.onExit = (code, signal) => resolve({ code, signal });
    });
    child.once('error', this.onError);
    child.once('exit', this.onExit);
    cancelled.addEventListener('abort', this.onAbort);
    if (cancelled.aborted) this.stop(); // cancelled while it waited for a process
    this.limit = setTimeout(() => {
      this.timedOut = true;
      this.stop();
    }, Math.min(timeLimitSeconds * 1000, MAX_TIMER_MS));
  }

  /** Being stopped: the job is over once the process is gone. */
  get killing(): boolean {
    return this.killTimer !== undefined;
  }

  stop(): void {
    if (this.killTimer) return;
    killGroup(this.child, 'SIGTERM');
    this.killTimer = setTimeout(() => killGroup(this.child, 'SIGKILL'), KILL_GRACE_MS);
  }

  dispose(): void {
    clearTimeout(this.limit);
    clearTimeout(this.killTimer);
    this.cancelled.removeEventListener('abort', this.onAbort);
    this.child.off('exit', this.onExit);
    this.child.off('error', this.onError);
  }
}
