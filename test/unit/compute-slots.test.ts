// CONCURRENT_TASKS bounds scripts that compute; a script waiting on its sub-tasks lends its slot.
import { describe, expect, it } from 'vitest';
import { ComputeSlots } from '../../src/activities/compute-slots';

const tick = () => new Promise((r) => setImmediate(r));

/** A slot reservation, as the worker makes one before each poll. */
function reserve(slots: ComputeSlots, signal = new AbortController().signal) {
  let granted = false;
  const p = slots.slotSupplier().reserveSlot({} as never, signal).then(() => {
    granted = true;
  });
  return { p, granted: () => granted };
}

describe('compute slots', () => {
  it('with one slot, a waiting parent lets the worker take its child’s task, and no more', async () => {
    const slots = new ComputeSlots(1);
    const supplier = slots.slotSupplier();
    await reserve(slots).p; // the parent's task
    const parent = slots.forScript();
    const childPoll = reserve(slots);
    await tick();
    expect(childPoll.granted()).toBe(false); // the parent computes: no second task

    let release!: () => void;
    const join = parent.waiting(() => new Promise<string>((r) => (release = () => r('child result'))));
    await childPoll.p; // the parent waits: the child's task may come
    const thirdPoll = reserve(slots);
    await tick();
    expect(thirdPoll.granted()).toBe(false); // one lent slot, one more task
    expect(slots.counts).toEqual({ held: 2, waiting: 1, limit: 1 });

    release(); // the parent goes on at once, though its child still holds the lent slot
    await expect(join).resolves.toBe('child result');
    expect(slots.counts).toEqual({ held: 2, waiting: 0, limit: 1 });
    supplier.releaseSlot({} as never); // the child ends
    await tick();
    expect(thirdPoll.granted()).toBe(false); // the parent computes: still no new task
    parent.end();
    supplier.releaseSlot({} as never); // the parent ends
    await thirdPoll.p;
    expect(slots.counts).toEqual({ held: 1, waiting: 0, limit: 1 });
  });

  it('counts overlapping joins of one script once', async () => {
    const slots = new ComputeSlots(1);
    const s = slots.forScript();
    let done!: () => void;
    const gate = new Promise<void>((r) => (done = r));
    const joins = Promise.all([s.waiting(() => gate), s.waiting(() => gate), s.waiting(() => gate)]);
    expect(slots.counts.waiting).toBe(1);
    done();
    await joins;
    expect(slots.counts.waiting).toBe(0);
    s.end();
    expect(slots.counts.waiting).toBe(0);
  });

  it('a script that ends while it waits (a cancelled job) takes its lent slot back', async () => {
    const slots = new ComputeSlots(2);
    const a = slots.forScript();
    let fail!: (e: Error) => void;
    const join = a.waiting(() => new Promise((_, reject) => (fail = reject)));
    expect(slots.counts.waiting).toBe(1);
    a.end();
    expect(slots.counts.waiting).toBe(0);
    fail(new Error('cancelled'));
    await expect(join).rejects.toThrow('cancelled');
    expect(slots.counts.waiting).toBe(0); // not taken back twice
  });

  it('a script that has answered lends its slot while its task ends: one next task is polled for meanwhile', async () => {
    const slots = new ComputeSlots(1);
    const supplier = slots.slotSupplier();
    await reserve(slots).p; // the script's task
    const script = slots.forScript();
    const next = reserve(slots);
    const after = reserve(slots);
    await tick();
    expect(next.granted()).toBe(false); // it computes
    script.computed(); // its process answered; the task still records its state and reports
    await next.p;
    await tick();
    expect(after.granted()).toBe(false); // one task ahead, no more
    script.end();
    expect(slots.counts).toEqual({ held: 2, waiting: 0, limit: 1 });
    supplier.releaseSlot({} as never); // Temporal has the first task's result
    await tick();
    expect(after.granted()).toBe(false); // the next task computes now
    expect(slots.counts.held).toBe(1);
  });

  it('an aborted reservation rejects with the signal’s reason and takes nothing', async () => {
    const slots = new ComputeSlots(1);
    await slots.slotSupplier().reserveSlot({} as never, new AbortController().signal);
    const ac = new AbortController();
    const pending = slots.slotSupplier().reserveSlot({} as never, ac.signal);
    ac.abort();
    await expect(pending).rejects.toBe(ac.signal.reason);
    expect(slots.counts.held).toBe(1);
  });
});
