// The optional parameters the 3D processes share, read from a job's params with clear errors:
// CAD tessellation quality, weld, simplify and glTF compression.
import { COMPRESSIONS, type Compression } from './gltf';
import type { LoadOptions } from './io';
import type { OptimizeOptions } from './preview';

export interface ModelParams {
  load: LoadOptions;
  optimize: OptimizeOptions;
  compression: Compression | null;
  /** The triangle budget of a preview (`previewTriangles`, a whole number). */
  previewTriangles?: number;
}

function positive(params: Record<string, unknown>, key: string, max?: number): number | undefined {
  const value = params[key];
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || (max !== undefined && n > max)) {
    throw new RangeError(`param '${key}' must be a number above 0${max !== undefined ? ` and at most ${max}` : ''}, not ${JSON.stringify(value)}`);
  }
  return n;
}

function flag(params: Record<string, unknown>, key: string): boolean {
  const value = params[key];
  if (value === undefined || value === null || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new TypeError(`param '${key}' must be true or false, not ${JSON.stringify(value)}`);
}

/**
 * Reads `linear_deflection` (CAD: largest distance between mesh and surface, in the file's unit),
 * `angular_deflection` (CAD: degrees), `weld` (boolean), `simplify` (fraction of triangles to
 * keep), `compression` (`draco` or `meshopt`, glTF outputs) and `previewTriangles` (a preview's
 * triangle budget) from a job's params.
 */
export function modelParams(params: Record<string, unknown> = {}): ModelParams {
  const linearDeflection = positive(params, 'linear_deflection');
  const angularDeflection = positive(params, 'angular_deflection', 180);
  const simplify = positive(params, 'simplify', 1);
  const previewTriangles = positive(params, 'previewTriangles');
  if (previewTriangles !== undefined && !Number.isInteger(previewTriangles)) throw new RangeError(`param 'previewTriangles' must be a whole number, not ${previewTriangles}`);
  const compression = params.compression ?? null;
  if (compression !== null && !(COMPRESSIONS as readonly unknown[]).includes(compression)) {
    throw new RangeError(`param 'compression' must be one of ${COMPRESSIONS.join(', ')}, not ${JSON.stringify(compression)}`);
  }
  return {
    load: { ...(linearDeflection !== undefined ? { linearDeflection } : {}), ...(angularDeflection !== undefined ? { angularDeflection } : {}) },
    optimize: { weld: flag(params, 'weld'), ...(simplify !== undefined ? { simplify } : {}) },
    compression: compression as Compression | null,
    ...(previewTriangles !== undefined ? { previewTriangles } : {}),
  };
}
