import { pathToFileURL } from 'node:url';
import { ErrorType } from '../shared/errors';
import { AsyncResult } from './async-result';
import type { ProgramContext } from './program-context';
import { scheduleOptionsOf } from './schedule';

export type LoadedEntrypoint = (pc: ProgramContext, params: unknown) => unknown;

/** An error the SDK raises about the script itself (not thrown by the script). */
export class ScriptLoadError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** Imports a job script (TypeScript or JavaScript, ESM or CommonJS) and finds its entrypoint. */
export async function loadEntrypoint(script: string, entrypoint: string): Promise<LoadedEntrypoint> {
  const mod = (await import(pathToFileURL(script).href)) as Record<string, unknown>;
  // A script loaded as CommonJS shows its exports under `default` too.
  const fallback = mod.default as Record<string, unknown> | undefined;
  const fn = mod[entrypoint] ?? (fallback && typeof fallback === 'object' ? fallback[entrypoint] : undefined);
  if (typeof fn !== 'function') {
    throw new ScriptLoadError(
      ErrorType.ScriptFailed,
      `The script file does not have the function ${entrypoint} (export it: export async function ${entrypoint}(pc, params))`,
    );
  }
  return fn as LoadedEntrypoint;
}

function isAsyncResult(v: unknown): v is AsyncResult {
  return v instanceof AsyncResult || (typeof v === 'object' && v !== null && typeof (v as AsyncResult).get === 'function' && typeof (v as AsyncResult).id === 'string');
}

/**
 * Calls the entrypoint as upstream's pixyz_execute does: with `wait`, an entrypoint that returns
 * sub-tasks gets their result as its own.
 */
export async function callEntrypoint(fn: LoadedEntrypoint, pc: ProgramContext, params: unknown): Promise<unknown> {
  let returned = await fn(pc, params);
  const schedule = scheduleOptionsOf(fn);
  if (schedule?.wait && isAsyncResult(returned)) {
    pc.progressNext(`Waiting for ${returned.kind === 'task' ? 'sub-task' : 'sub-tasks'} ${returned.id}`);
    returned = await returned.get(schedule.timeout === undefined ? {} : { timeout: schedule.timeout });
  }
  return returned;
}
