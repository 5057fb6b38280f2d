import Module from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorType } from '../shared/errors';
import { CompiledScripts, commonJsOfSync } from '../shared/script-code';
import { AsyncResult } from './async-result';
import type { ProgramContext } from './program-context';
import { installImportResolution } from './resolve';
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

/**
 * Imports a job script (TypeScript or JavaScript, ESM or CommonJS) and finds its entrypoint.
 * `fresh` (the job's number in a script process that serves many) evaluates the script anew,
 * so that no module-level state of one job reaches the next, from `code` when the worker compiled
 * it (null: an ES module); without it (local mode), the script is imported once, as any module.
 */
export async function loadEntrypoint(script: string, entrypoint: string, fresh?: number, code?: string | null): Promise<LoadedEntrypoint> {
  if (fresh === undefined) await installImportResolution();
  const mod = (fresh === undefined ? await import(pathToFileURL(script).href) : await importFresh(script, fresh, code)) as Record<string, unknown>;
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

/** Scripts this process compiled itself (run without a worker to compile them: the tests of the runner). */
const compiled = new CompiledScripts(16 * 2 ** 20);

/**
 * A new instance of the script module: CommonJS (`code`, compiled by the worker, else here) evaluated
 * in a Module of its own (`require` of the SDK still reaches the process's one SDK); an ES module
 * (`.mjs`, `.mts`, a `"type": "module"` package; `code` null) through import() with a query of its
 * own, which Node keys as another module. (A script CommonJS cannot express, as top-level await in
 * a `.ts` outside such a package, fails in import() as it did before processes were reused.)
 */
async function importFresh(script: string, n: number, given: string | null | undefined): Promise<unknown> {
  const code = given === undefined ? commonJsOfSync(script, compiled) : given;
  if (code === null) {
    await installImportResolution();
    return import(`${pathToFileURL(script).href}?job=${n}`);
  }
  const m = new Module(script) as Module & { _compile(code: string, filename: string): void };
  m.filename = script;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(script));
  m._compile(code, script);
  m.loaded = true;
  return m.exports;
}
