import type { ParamSpecs } from '../shared/param-specs';
import type { ProgramContext } from './program-context';

/**
 * Options of `pixyzSchedule`, upstream's `@pixyz_schedule(...)` camelCased. The API reads the
 * constant ones from the script's source at submission (never by running it).
 */
export interface ScheduleOptions {
  /** Queue of the job: `control`, `cpu`, `gpu` or a configured custom one. */
  queue?: string;
  /** Run limit in seconds (upstream `time_limit`). */
  timeLimit?: number;
  /** Wait for the sub-tasks the entrypoint returns (upstream `wait`). */
  wait?: boolean;
  /** How long to wait for them, in seconds (upstream `timeout`). */
  timeout?: number;
  /** Attempts after a crashed or killed script process (upstream retries once: default 1). */
  retries?: number;
  /** A name shown for the job when the submission gives none. */
  name?: string;
  computeOnly?: boolean;
  /**
   * `'model'`: the job's file must be a 3D model the 3D library reads (or an archive of some): the
   * API refuses any other at submission, naming the formats, rather than after the job queued.
   */
  input?: 'model';
  /**
   * The params the entrypoint takes, as constants (a subset of JSON Schema: type, description,
   * default, enum, minimum, maximum, exclusiveMinimum). The API refuses a submission whose params
   * break them, and the dashboard shows them as a form. Keys not named here still pass.
   */
  params?: ParamSpecs;
}

export type Entrypoint<P = any, R = unknown> = (pc: ProgramContext, params: P) => R | Promise<R>;

export type ScheduledEntrypoint<P = any, R = unknown> = Entrypoint<P, R> & {
  readonly [SCHEDULE]: Readonly<ScheduleOptions>;
};

// Symbol.for: a script may load its own copy of the SDK module; the mark must still be seen.
export const SCHEDULE: unique symbol = Symbol.for('pixyz-scheduler.schedule') as never;

/**
 * Marks an entrypoint with scheduling options:
 *
 *     export const main = pixyzSchedule({ queue: 'cpu', timeLimit: 600 }, async (pc, params) => { … });
 *
 * The wrapper is optional: a plain `export async function main(pc, params)` works too.
 */
export function pixyzSchedule<P, R>(options: ScheduleOptions, entrypoint: Entrypoint<P, R>): ScheduledEntrypoint<P, R> {
  if (typeof entrypoint !== 'function') throw new TypeError('pixyzSchedule(options, entrypoint): entrypoint must be a function');
  const wrapped = ((pc: ProgramContext, params: P) => entrypoint(pc, params)) as ScheduledEntrypoint<P, R>;
  Object.defineProperty(wrapped, SCHEDULE, { value: Object.freeze({ ...options }) });
  Object.defineProperty(wrapped, 'name', { value: entrypoint.name || 'entrypoint' });
  return wrapped;
}

export function scheduleOptionsOf(fn: unknown): Readonly<ScheduleOptions> | undefined {
  return typeof fn === 'function' ? (fn as Partial<ScheduledEntrypoint>)[SCHEDULE] : undefined;
}
