// CONCURRENT_TASKS bounds scripts that compute, not scripts that wait. A script joining its
// sub-tasks gives its slot back (its worker may then take another task — one of its children,
// say), and takes a slot again before it computes once more. Without this, a parent on a queue
// with one slot waits forever for children that wait for that slot.
import type { ActivitySlotInfo, CustomSlotSupplier, SlotPermit } from '@temporalio/worker';

/** The SDK expects an aborted reservation to reject with the signal's own reason. */
function abortReason(signal: AbortSignal): unknown {
  if (signal.reason !== undefined) return signal.reason;
  const err = new Error('slot reservation aborted');
  err.name = 'AbortError';
  return err;
}

/**
 * The slots of one task queue of one worker. Two counts:
 * - Temporal slots (`held`): how many tasks the worker may hold at once. The worker polls for a
 *   task only with a slot reserved; it may hold `limit` plus one per script that waits.
 * - compute slots (`computing`): how many scripts run their own code at once, never over `limit`
 *   (except when scripts wait, see below). A script takes one before it starts, gives it back while
 *   it waits on sub-tasks, and takes one again (ahead of new scripts) before it goes on.
 * A script whose wait ends while a poller holds the lent slot waits for a compute slot like any
 * script; a task that arrives meanwhile waits in its activity, not in the script's code.
 */
export class ComputeSlots {
  private held = 0;
  private waiting = 0;
  private computing = 0;
  private readonly reservers: (() => void)[] = [];
  private readonly resumers: (() => void)[] = [];
  private readonly starters: (() => void)[] = [];

  constructor(readonly limit: number) {}

  /** What the worker's tuner asks before each poll for an activity task. */
  slotSupplier(): CustomSlotSupplier<ActivitySlotInfo> {
    return {
      type: 'custom',
      reserveSlot: (_ctx, signal) =>
        new Promise<SlotPermit>((resolve, reject) => {
          const grant = () => {
            signal.removeEventListener('abort', onAbort);
            this.held += 1;
            resolve({});
          };
          const onAbort = () => {
            const i = this.reservers.indexOf(tryGrant);
            if (i >= 0) this.reservers.splice(i, 1);
            reject(abortReason(signal));
          };
          const tryGrant = () => grant();
          if (signal.aborted) return reject(abortReason(signal));
          if (this.canReserve()) return grant();
          signal.addEventListener('abort', onAbort, { once: true });
          this.reservers.push(tryGrant);
        }),
      tryReserveSlot: () => {
        if (!this.canReserve()) return null;
        this.held += 1;
        return {};
      },
      markSlotUsed: () => {},
      releaseSlot: () => {
        this.held -= 1;
        this.wake();
      },
    };
  }

  /** Slots the worker holds, scripts computing and scripts waiting: for tests and logs. */
  get counts(): { held: number; computing: number; waiting: number; limit: number } {
    return { held: this.held, computing: this.computing, waiting: this.waiting, limit: this.limit };
  }

  private canReserve(): boolean {
    return this.held < this.limit + this.waiting;
  }

  private wake(): void {
    while (this.computing < this.limit) {
      const next = this.resumers.shift() ?? this.starters.shift();
      if (!next) break;
      this.computing += 1;
      next();
    }
    while (this.reservers.length > 0 && this.canReserve()) this.reservers.shift()!();
  }

  private acquire(queue: (() => void)[]): Promise<void> {
    if (this.computing < this.limit && this.resumers.length === 0 && (queue === this.resumers || this.starters.length === 0)) {
      this.computing += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => queue.push(resolve));
  }

  /** One script's use of these slots, from its start to its end. */
  forScript(): ScriptSlot {
    return new ScriptSlot(this);
  }

  /** @internal */ startScript(): Promise<void> {
    return this.acquire(this.starters);
  }

  /** @internal */ release(): void {
    this.computing -= 1;
    this.wake();
  }

  /** @internal */ beginWait(): void {
    this.waiting += 1;
    this.release();
  }

  /** @internal */ endWait(): Promise<void> {
    this.waiting -= 1;
    return this.acquire(this.resumers);
  }

  /** @internal */ dropWait(): void {
    this.waiting -= 1;
    this.wake();
  }
}

/**
 * A script's slot: taken before it starts, lent while it waits on sub-tasks (however many joins
 * overlap), taken again before its code goes on, given back at its end.
 */
export class ScriptSlot {
  private state: 'idle' | 'computing' | 'waiting' | 'ended' = 'idle';
  private joins = 0;

  constructor(private readonly slots: ComputeSlots) {}

  async start(): Promise<void> {
    await this.slots.startScript();
    if (this.ended()) this.slots.release(); // ended while it queued (cancelled)
    else this.state = 'computing';
  }

  /** Runs `wait` (a join) without holding a compute slot; the slot is back before this returns. */
  async waiting<T>(wait: () => Promise<T>): Promise<T> {
    if (this.joins++ === 0 && this.state === 'computing') {
      this.state = 'waiting';
      this.slots.beginWait();
    }
    try {
      return await wait();
    } finally {
      if (--this.joins === 0 && this.state === 'waiting') {
        this.state = 'idle';
        await this.slots.endWait();
        if (this.ended()) this.slots.release(); // it ended while it queued
        else this.state = 'computing';
      }
    }
  }

  private ended(): boolean {
    return this.state === 'ended';
  }

  /** The script's end, whatever its state. */
  end(): void {
    if (this.state === 'computing') this.slots.release();
    else if (this.state === 'waiting') this.slots.dropWait();
    this.state = 'ended';
  }
}
