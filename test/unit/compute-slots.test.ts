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
  it('with one slot, a waiting parent lets its child run, and takes the slot back before it goes on', async () => {
    const slots = new ComputeSlots(1);
    const supplier = slots.slotSupplier();
    const parentPoll = reserve(slots);
    await parentPoll.p;
    const parent = slots.forScript();
    await parent.start();
    // No second task is taken while the parent computes.
    const childPoll = reserve(slots);
    await tick();
    expect(childPoll.granted()).toBe(false);

    let release!: () => void;
    const join = parent.waiting(() => new Promise<string>((r) => (release = () => r('child result'))));
    await childPoll.p; // the parent waits: the worker may take the child's task
    const child = slots.forScript();
    await child.start();
    expect(slots.counts).toMatchObject({ computing: 1, waiting: 1 });

    release(); // the child's result is in, but the child still computes: the parent waits for the slot
    let resumed = false;
    void join.then(() => (resumed = true));
    await tick();
    expect(resumed).toBe(false);
    child.end();
    supplier.releaseSlot({} as never);
    await expect(join).resolves.toBe('child result');
    expect(slots.counts).toMatchObject({ computing: 1, waiting: 0 });
    parent.end();
    supplier.releaseSlot({} as never);
    expect(slots.counts).toMatchObject({ computing: 0, waiting: 0, held: 0 });
  });

  it('counts overlapping joins of one script once', async () => {
    const slots = new ComputeSlots(1);
    const s = slots.forScript();
    await s.start();
    let done!: () => void;
    const gate = new Promise<void>((r) => (done = r));
    const joins = Promise.all([s.waiting(() => gate), s.waiting(() => gate), s.waiting(() => gate)]);
    expect(slots.counts).toMatchObject({ computing: 0, waiting: 1 });
    done();
    await joins;
    expect(slots.counts).toMatchObject({ computing: 1, waiting: 0 });
    s.end();
    expect(slots.counts.computing).toBe(0);
  });

  it('gives a resuming script the next slot before a script that has not started', async () => {
    const slots = new ComputeSlots(1);
    const a = slots.forScript();
    await a.start();
    let done!: () => void;
    const join = a.waiting(() => new Promise<void>((r) => (done = r)));
    const b = slots.forScript();
    await b.start(); // a waits: b may compute
    const order: string[] = [];
    const c = slots.forScript();
    void c.start().then(() => order.push('c starts'));
    done();
    void join.then(() => order.push('a resumes'));
    await tick();
    expect(order).toEqual([]);
    b.end();
    await tick();
    await tick();
    expect(order).toEqual(['a resumes']);
    a.end();
    await tick();
    expect(order).toEqual(['a resumes', 'c starts']);
    c.end();
  });

  it('a script that ends while it waits, or while it queues, leaves every count as it found it', async () => {
    const slots = new ComputeSlots(2);
    const a = slots.forScript();
    await a.start();
    void a.waiting(() => new Promise(() => {})); // a join that never returns: the job is cancelled
    a.end();
    const b = slots.forScript();
    const c = slots.forScript();
    const d = slots.forScript();
    await b.start();
    await c.start();
    const queued = d.start();
    d.end(); // cancelled before it got a slot
    b.end();
    await queued;
    c.end();
    expect(slots.counts).toMatchObject({ computing: 0, waiting: 0 });
  });

  it('an aborted reservation rejects with AbortError and takes nothing', async () => {
    const slots = new ComputeSlots(1);
    await slots.slotSupplier().reserveSlot({} as never, new AbortController().signal);
    const ac = new AbortController();
    const pending = slots.slotSupplier().reserveSlot({} as never, ac.signal);
    ac.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(slots.counts.held).toBe(1);
  });
});
