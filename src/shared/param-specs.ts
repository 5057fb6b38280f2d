// The parameters a process declares (pixyzSchedule's `params`): a small subset of JSON Schema,
// read from its source without running it. The API refuses a submission whose params break them,
// GET /processes/{name} publishes them, and the dashboard makes its submit form from them.
// Pure: the API and the dashboard (a browser bundle) both use it.

export type ParamType = 'string' | 'number' | 'integer' | 'boolean';

export interface ParamSpec {
  type: ParamType;
  description?: string;
  default?: string | number | boolean;
  /** The values allowed. */
  enum?: readonly (string | number)[];
  minimum?: number;
  maximum?: number;
  /** A number must be over this one (e.g. 0 for "positive"). */
  exclusiveMinimum?: number;
}

export type ParamSpecs = Record<string, ParamSpec>;

const TYPES: readonly string[] = ['string', 'number', 'integer', 'boolean'];

/**
 * The specs in a statically read `params` option, or a message saying what is wrong with the
 * declaration (the process's author reads it, in a refused submission).
 */
export function readParamSpecs(declared: unknown): { specs: ParamSpecs } | { problem: string } {
  if (declared === null || typeof declared !== 'object' || Array.isArray(declared)) {
    return { problem: 'pixyzSchedule `params` must be an object literal of { name: { type, … } }' };
  }
  const specs: ParamSpecs = {};
  for (const [name, raw] of Object.entries(declared as Record<string, unknown>)) {
    const spec = raw as Partial<ParamSpec> | null;
    if (spec === null || typeof spec !== 'object' || !TYPES.includes(spec.type as string)) {
      return { problem: `pixyzSchedule params '${name}': give a constant \`type\`, one of ${TYPES.join(', ')}` };
    }
    specs[name] = spec as ParamSpec;
    const wrong = spec.default === undefined ? null : valueProblem(name, spec as ParamSpec, spec.default);
    if (wrong) return { problem: `pixyzSchedule params '${name}': its default breaks its own rule (${wrong})` };
  }
  return { specs };
}

/** Why `params` breaks `specs`, or null. Keys no spec names pass: a script may read more. */
export function paramsProblem(specs: ParamSpecs, params: unknown): string | null {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) return 'params must be a JSON object';
  for (const [name, spec] of Object.entries(specs)) {
    const value = (params as Record<string, unknown>)[name];
    if (value === undefined || value === null) continue; // not given: the default applies
    const wrong = valueProblem(name, spec, value);
    if (wrong) return wrong;
  }
  return null;
}

/**
 * Why `given` breaks `spec`, or null. As the processes read them, a number may come as its text
 * ("0.5") and a boolean as "true" or "false" (a form, a shell): both are checked as their value.
 */
function valueProblem(name: string, spec: ParamSpec, given: unknown): string | null {
  const shown = JSON.stringify(given);
  let value = given;
  if ((spec.type === 'number' || spec.type === 'integer') && typeof given === 'string' && given.trim() !== '') value = Number(given);
  if (spec.type === 'boolean' && (given === 'true' || given === 'false')) value = given === 'true';
  const numeric = spec.type === 'number' || spec.type === 'integer';
  if (numeric ? typeof value !== 'number' || !Number.isFinite(value) : typeof value !== spec.type) {
    return `'${name}' must be ${spec.type === 'integer' ? 'a whole number' : `a ${spec.type}`}, not ${shown}`;
  }
  if (spec.type === 'integer' && !Number.isInteger(value)) return `'${name}' must be a whole number, not ${shown}`;
  // A text matches its enum whatever its case ("OBJ" is obj), as the processes read it.
  const matches = (v: string | number) => v === value || (typeof v === 'string' && typeof value === 'string' && v.toLowerCase() === value.toLowerCase());
  if (spec.enum && !spec.enum.some(matches)) return `'${name}' must be one of ${spec.enum.join(', ')}, not ${shown}`;
  if (numeric) {
    const n = value as number;
    if (spec.exclusiveMinimum !== undefined && !(n > spec.exclusiveMinimum)) return `'${name}' must be over ${spec.exclusiveMinimum}, not ${shown}`;
    if (spec.minimum !== undefined && n < spec.minimum) return `'${name}' must be at least ${spec.minimum}, not ${shown}`;
    if (spec.maximum !== undefined && n > spec.maximum) return `'${name}' must be at most ${spec.maximum}, not ${shown}`;
  }
  return null;
}

/** The specs as a JSON Schema of the params object (GET /processes/{name}). */
export function paramsSchema(specs: ParamSpecs): { type: 'object'; properties: ParamSpecs } {
  return { type: 'object', properties: specs };
}
