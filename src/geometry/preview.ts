// Lighter models: a preview decimated to a triangle budget, and the `weld`/`simplify` options of
// the processes. Both change the document in place.
import { simplify, weld } from '@gltf-transform/functions';
import type { Document } from './model';
import { countTriangles } from './metadata';

/** Upstream decimates previews to 500k triangles. */
export const DEFAULT_PREVIEW_TRIANGLES = 500_000;

/** Simplifies `doc` in place until it has at most about `budget` triangles; returns the count. */
export async function decimate(doc: Document, budget = DEFAULT_PREVIEW_TRIANGLES): Promise<number> {
  const before = countTriangles(doc);
  if (before <= budget) return before;
  const { MeshoptSimplifier } = await import('meshoptimizer'); // ESM-only
  await MeshoptSimplifier.ready;
  await doc.transform(weld(), simplify({ simplifier: MeshoptSimplifier, ratio: budget / before, error: 0.01 }));
  return countTriangles(doc);
}

export interface OptimizeOptions {
  /** Merge vertices whose attributes are identical (and index every primitive). */
  weld?: boolean;
  /** Keep about this fraction (0–1] of the triangles; 1 keeps them all. */
  simplify?: number;
}

/** Applies `weld` and `simplify` to `doc` in place; returns the triangle count after. */
export async function optimize(doc: Document, options: OptimizeOptions): Promise<number> {
  if (options.simplify !== undefined && !(options.simplify > 0 && options.simplify <= 1)) {
    throw new RangeError(`simplify is the fraction of triangles to keep, in (0, 1], not ${options.simplify}`);
  }
  if (options.weld) await doc.transform(weld());
  const before = countTriangles(doc);
  if (options.simplify !== undefined && options.simplify < 1) return decimate(doc, Math.max(1, Math.floor(before * options.simplify)));
  return before;
}
