import { randomUUID } from 'node:crypto';
import type { Canvas, TaskSignature } from '../shared/types';
import { AsyncResult } from './async-result';
import { backend } from './backend';

/** A step of a canvas: a signature from `pc.signature(params)`, or a nested canvas. */
export type Step = TaskSignature | CanvasSignature;

/** Upstream's Celery canvas, built with group(), chain() and chord(); run with applyAsync(). */
export class CanvasSignature {
  constructor(readonly canvas: Canvas) {}

  /** Starts every step (as the workflow orders them) and returns at once. */
  applyAsync<T = unknown>(): AsyncResult<T> {
    return start<T>(this.canvas);
  }
}

const toCanvas = (s: Step): Canvas => (s instanceof CanvasSignature ? s.canvas : s);
const flat = (steps: (Step | Step[])[]): Canvas[] => steps.flat().map(toCanvas);

/** Runs its steps in parallel; the result is the list of their results. */
export function group(...steps: (Step | Step[])[]): CanvasSignature {
  return new CanvasSignature({ kind: 'group', id: randomUUID(), items: flat(steps) });
}

/** Runs its steps one after the other; each gets the previous step's result as params. */
export function chain(...steps: (Step | Step[])[]): CanvasSignature {
  return new CanvasSignature({ kind: 'chain', id: randomUUID(), items: flat(steps) });
}

/** Runs `header` as a group, then `body` with the list of their results as params. */
export function chord(header: Step[], body: Step): CanvasSignature {
  return new CanvasSignature({ kind: 'chord', id: randomUUID(), header: header.map(toCanvas), body: toCanvas(body) });
}

const starts: Promise<unknown>[] = [];
const observed = new WeakSet<Promise<unknown>>();

/** Sends a canvas to the backend; the AsyncResult is usable at once, its start confirmed later. */
export function start<T>(canvas: Canvas): AsyncResult<T> {
  const started = backend().spawn(canvas);
  started.catch(() => {}); // surfaced by get(), or by settleStarts() when nobody asked
  starts.push(started);
  return new AsyncResult<T>(canvas.id, canvas.kind === 'task' ? 'task' : 'canvas', started, () => observed.add(started));
}

/**
 * Waits until every sub-task the script started is accepted, and throws a refusal nobody saw,
 * so that a fire-and-forget `pc.execute()` that could not start is not lost silently.
 */
export async function settleStarts(): Promise<void> {
  const results = await Promise.allSettled(starts);
  const unseen = results.findIndex((r, i) => r.status === 'rejected' && !observed.has(starts[i]!));
  if (unseen >= 0) throw (results[unseen] as PromiseRejectedResult).reason;
}

/** Forgets the starts of a job that is over: a script process serves one job after another. */
export function forgetStarts(): void {
  starts.length = 0;
}
