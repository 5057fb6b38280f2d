// CONCURRENT_TASKS bounds scripts that compute, not scripts that wait. A script joining its
// sub-tasks lends its slot: its worker may then take another task (one of its children, say).
// Without this, a parent on a queue with one slot waits forever for children that wait for it.
import type { ActivitySlotInfo, CustomSlotSupplier, SlotPermit } from '@temporalio/worker';

/** The SDK expects an aborted reservation to reject with the signal's own reason. */
function abortReason(signal: AbortSignal): unknown {
  if (signal.reason !== undefined) return signal.reason;
  const err = new Error('slot reservation aborted');
  err.name = 'AbortError';
  return err;
}

/**
 * The activity slots of one task queue of one worker. The worker polls for a task only with a
 * slot reserved, and holds at most `limit` tasks plus one per script that waits on sub-tasks.
 *
 * A script whose wait ends goes on at once, even when the slot it lent is still taken by another
 * script: the queue then computes one script over `limit` until one ends, and takes no new task
 * meanwhile. Making it wait instead could hold a parent for as long as an unrelated job runs, and
 * let its own time limit run out.
 */
export class ComputeSlots {
  private held = 0;
  private waiting = 0;
  private readonly reservers: (() => void)[] = [];

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
            const i = this.reservers.indexOf(grant);
            if (i >= 0) this.reservers.splice(i, 1);
            reject(abortReason(signal));
          };
          if (signal.aborted) return reject(abortReason(signal));
          if (this.canReserve()) return grant();
          signal.addEventListener('abort', onAbort, { once: true });
          this.reservers.push(grant);
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

  /** Slots the worker holds and scripts waiting on sub-tasks: for tests and logs. */
  get counts(): { held: number; waiting: number; limit: number } {
    return { held: this.held, waiting: this.waiting, limit: this.limit };
  }

  /** One script's use of these slots, from its start to its end. */
  forScript(): ScriptSlot {
    return new ScriptSlot(this);
  }

  private canReserve(): boolean {
    return this.held < this.limit + this.waiting;
  }

  private wake(): void {
    while (this.reservers.length > 0 && this.canReserve()) this.reservers.shift()!();
  }

  /** @internal */ lend(): void {
    this.waiting += 1;
    this.wake();
  }

  /** @internal */ takeBack(): void {
    this.waiting -= 1;
  }
}

/**
 * A script's slot. It is lent while the script waits on sub-tasks (however many of its joins
 * overlap), and from the moment the script computes no more (its process answered, or is gone)
 * to the end of its activity: the worker then polls for its next task while this one records its
 * state and reports to Temporal, instead of after.
 */
export class ScriptSlot {
  private joins = 0;
  private lent = false;
  private computing = true;
  private ended = false;

  constructor(private readonly slots: ComputeSlots) {}

  /** Runs `wait` (a join) with the script's slot lent; it is taken back when the last join ends. */
  async waiting<T>(wait: () => Promise<T>): Promise<T> {
    if (this.joins++ === 0) this.lend();
    try {
      return await wait();
    } finally {
      if (--this.joins === 0 && this.computing) this.takeBack();
    }
  }

  /** The script computes no more (its process answered or is gone): the slot is lent until end(). */
  computed(): void {
    this.computing = false;
    this.lend();
  }

  /** The activity's end, whatever the script's state: a slot it had lent is taken back. */
  end(): void {
    this.takeBack();
    this.ended = true;
  }

  private lend(): void {
    if (this.lent || this.ended) return;
    this.lent = true;
    this.slots.lend();
  }

  private takeBack(): void {
    if (!this.lent) return;
    this.lent = false;
    this.slots.takeBack();
  }
}
