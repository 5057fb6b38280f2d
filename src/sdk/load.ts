import { createHash } from 'node:crypto';
import fs from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorType } from '../shared/errors';
import { AsyncResult } from './async-result';
import type { ProgramContext } from './program-context';
import { installSdkImportResolution } from './resolve';
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
 * so that no module-level state of one job reaches the next; without it (local mode), the
 * script is imported once, as any module.
 */
export async function loadEntrypoint(script: string, entrypoint: string, fresh?: number): Promise<LoadedEntrypoint> {
  const mod = (fresh === undefined ? await import(pathToFileURL(script).href) : await importFresh(script, fresh)) as Record<string, unknown>;
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

/** Esbuild loaders of the extensions that are CommonJS, or may become it, outside a `"type": "module"` package. */
const LOADERS: Record<string, 'ts' | 'tsx' | 'js' | 'jsx'> = { '.ts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.js': 'js', '.cjs': 'js', '.jsx': 'jsx' };
/** Compiled scripts by content; a process keeps only the latest few. */
const compiled = new Map<string, string | null>();
const MAX_COMPILED = 64;

/**
 * A new instance of the script module: CommonJS compiled once per content and evaluated in a
 * Module of its own (`require` of the SDK still reaches the process's one SDK); an ES module
 * (`.mjs`, `.mts`, a `"type": "module"` package) through import() with a query of its own, which
 * Node keys as another module. (A script CommonJS cannot express, as top-level await in a `.ts`
 * outside such a package, fails in import() as it did before processes were reused.)
 */
async function importFresh(script: string, n: number): Promise<unknown> {
  const code = commonJsOf(script);
  if (code === null) {
    await typeScriptImport();
    return import(`${pathToFileURL(script).href}?job=${n}`);
  }
  // What the script requires of its own (a helper beside it, perhaps TypeScript) is loaded as tsx loads it.
  if (/\brequire\("\.{1,2}\//.test(code)) typeScriptRequire();
  const m = new Module(script) as Module & { _compile(code: string, filename: string): void };
  m.filename = script;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(script));
  m._compile(code, script);
  m.loaded = true;
  return m.exports;
}

/**
 * A script process run from the build (build/runtime) has no TypeScript loader: tsx is registered
 * when a script first needs it — an ES module (its imports, TypeScript or not), a CommonJS script
 * that requires files of its own. From src/ (tsx loaded), there is nothing to register.
 */
const LOADER_PRESENT = path.extname(__filename) === '.ts';
let cjsLoader = LOADER_PRESENT;
let esmLoader = LOADER_PRESENT;

function typeScriptRequire(): void {
  if (cjsLoader) return;
  cjsLoader = true;
  (require('tsx/cjs/api') as { register(): unknown }).register();
}

async function typeScriptImport(): Promise<void> {
  if (!esmLoader) {
    esmLoader = true;
    typeScriptRequire(); // an ES module's import of CommonJS TypeScript goes through require
    // Its ES-module build: the CommonJS one registers its hooks from the wrong directory.
    ((await import('tsx/esm/api')) as { register(): unknown }).register();
  }
  installSdkImportResolution(); // registered after tsx, so that it resolves first and hands on to it
}

/** Starts the compiler (esbuild's service) ahead of a first job: a pooled process calls it before it is ready. */
export function warmCompiler(): void {
  try {
    (require('esbuild') as typeof import('esbuild')).transformSync('export const warm: number = 1;', { loader: 'ts', format: 'cjs' });
  } catch {
    // the first job compiles its script and reports what is wrong
  }
}

/** The script as CommonJS with an inline source map (stack traces name its own lines), or null. */
function commonJsOf(script: string): string | null {
  const loader = LOADERS[path.extname(script).toLowerCase()];
  if (!loader || (!/\.c[jt]s$/i.test(script) && inModulePackage(path.dirname(script)))) return null;
  let source: string;
  try {
    source = fs.readFileSync(script, 'utf8');
  } catch {
    return null; // import() names what is wrong
  }
  // The source map names the file by its base name, so that one compilation serves every copy
  // of a script, unless the script reads import.meta, which then holds its own path.
  const sourcefile = path.basename(script);
  const meta = source.includes('import.meta');
  const key = createHash('sha256').update(`${loader}\0${meta ? script : sourcefile}\0`).update(source).digest('hex');
  const known = compiled.get(key);
  if (known !== undefined) return known;
  // Loaded on first use: local mode never needs it. tsx depends on the same esbuild.
  const { transformSync } = require('esbuild') as typeof import('esbuild');
  const define: Record<string, string> = meta
    ? {
        'import.meta.url': JSON.stringify(pathToFileURL(script).href),
        'import.meta.filename': JSON.stringify(script),
        'import.meta.dirname': JSON.stringify(path.dirname(script)),
      }
    : {};
  let code: string | null;
  try {
    const out = transformSync(source, { loader, format: 'cjs', target: `node${process.versions.node}`, sourcemap: 'inline', sourcefile, define });
    // What else import.meta holds (resolve) exists only in an ES module.
    code = out.warnings.some((w) => w.text.includes('import.meta')) ? null : out.code;
  } catch {
    code = null; // top-level await, or a syntax error: import() reports it as it always did
  }
  if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
  compiled.set(key, code);
  return code;
}

/** True when the nearest package.json makes `.js`/`.ts` files ES modules. */
function inModulePackage(dir: string): boolean {
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      try {
        return (JSON.parse(fs.readFileSync(file, 'utf8')) as { type?: unknown }).type === 'module';
      } catch {
        return true; // malformed: import() reports it as Node does
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir || path.basename(dir) === 'node_modules') return false;
    dir = parent;
  }
}
