// What a job script loads beyond its own file: the SDK by name, wherever the script lies, and
// TypeScript files (its helpers, the Node processes it forks) through tsx.
import Module, { register } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const SRC = path.resolve(__dirname, '..');
/** `.ts` under a TypeScript loader, `.js` in the script processes' build (build/runtime). */
const EXT = path.extname(__filename);
/** Run from src/ under tsx (`--import tsx`: CommonJS and ES modules alike), not from the build. */
const LOADER_PRESENT = EXT === '.ts';

/** What a job script may import by name, for require (CommonJS) and import (ES modules). */
const MODULES: Record<string, { cjs: string; esm: string }> = {
  'pixyz-scheduler': { cjs: path.join(SRC, 'sdk', `index${EXT}`), esm: path.join(SRC, 'sdk', 'esm.mjs') },
  'pixyz-scheduler/geometry': { cjs: path.join(SRC, 'geometry', `index${EXT}`), esm: path.join(SRC, 'geometry', 'esm.mjs') },
};

/**
 * Makes `require('pixyz-scheduler')` (and `pixyz-scheduler/geometry`) resolve to this
 * installation wherever the requiring script lies. Installed after tsx's, so that it is asked
 * first (no tsconfig `paths` can send the name elsewhere). ES modules need sdkImportResolution.
 */
export function installSdkResolution(): void {
  const mod = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const original = mod._resolveFilename;
  mod._resolveFilename = function (request: string, ...rest: unknown[]) {
    return MODULES[request]?.cjs ?? original.call(this, request, ...rest);
  };
}

/**
 * TypeScript for require, in a script process run from the build: what a CommonJS script
 * requires of its own (however it names it), as under tsx; and for the Node processes a script
 * forks, which take this process's flags. (The process itself loaded no TypeScript.)
 */
export function installTypeScriptRequire(): void {
  if (LOADER_PRESENT) return;
  (require('tsx/cjs/api') as { register(): unknown }).register();
  process.execArgv.push('--import', pathToFileURL(require.resolve('tsx')).href);
}

let importHooks: Promise<void> | undefined;

/**
 * The same for `import`: TypeScript (tsx's ES-module loader) and the SDK by name (an ESM resolve
 * hook: ES modules get facades over the same module instances). Once per process: a script
 * process installs it before it says it is ready, so that any script, or any file it loads,
 * may import() alike, whatever ran in the process before.
 */
export function installImportResolution(): Promise<void> {
  return (importHooks ??= (async () => {
    // Its ES-module build: the CommonJS one registers its hooks from the wrong directory.
    if (!LOADER_PRESENT) ((await import('tsx/esm/api')) as { register(): unknown }).register();
    // Registered after tsx, so that it resolves first and hands on to it.
    const urls = Object.fromEntries(Object.entries(MODULES).map(([name, m]) => [name, pathToFileURL(m.esm).href]));
    register(pathToFileURL(path.join(__dirname, 'resolve-hook.mjs')), { data: { urls } });
  })());
}
