import { isFinished } from '../shared/job-status';
import { backend, type Backend } from './backend';


/**
 * A sub-task (or a group, chain or chord of them) that was started. `await result.get()` waits
 * for it and returns what it returned; a failed sub-task makes `get()` throw its error.
 */
export class AsyncResult<T = unknown> {
  private readonly started: Promise<unknown>;

  constructor(
    /** The sub-task's job id, or the canvas's id. */
    readonly id: string,
    readonly kind: 'task' | 'canvas' = 'task',
    started: Promise<unknown> = Promise.resolve(),
    private readonly onObserved: () => void = () => {},
    /** Where to ask; default: this process's backend (the scheduler or local mode). */
    private readonly via?: Backend,
  ) {
    this.started = started;
  }

  /** Waits for the result (at most `timeout` seconds) and returns it. */
  async get(options: { timeout?: number } = {}): Promise<T> {
    this.onObserved();
    await this.started;
    const timeoutMs = options.timeout === undefined ? null : Math.max(0, options.timeout * 1000);
    return (await (this.via ?? backend()).join(this.id, this.kind, timeoutMs)) as T;
  }

  /** Upstream's state: PENDING, RUNNING, SUCCESS, FAILURE or REVOKED. */
  async state(): Promise<string> {
    this.onObserved();
    await this.started;
    return (this.via ?? backend()).status(this.id);
  }

  async ready(): Promise<boolean> {
    return isFinished(await this.state());
  }

  /** A result is returned by id, as upstream returns `as_tuple()` ids. */
  toJSON(): { id: string } {
    return { id: this.id };
  }
}
