// A light preview of a model: the same scene as GLB, decimated to a triangle budget.
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
