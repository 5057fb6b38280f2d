import Module, { register } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const SRC = path.resolve(__dirname, '..');
/** `.ts` under a TypeScript loader, `.js` in the script processes' build (build/runtime). */
const EXT = path.extname(__filename);

/** What a job script may import by name, for require (CommonJS) and import (ES modules). */
const MODULES: Record<string, { cjs: string; esm: string }> = {
  'pixyz-scheduler': { cjs: path.join(SRC, 'sdk', `index${EXT}`), esm: path.join(SRC, 'sdk', 'esm.mjs') },
  'pixyz-scheduler/geometry': { cjs: path.join(SRC, 'geometry', `index${EXT}`), esm: path.join(SRC, 'geometry', 'esm.mjs') },
};

/**
 * Makes `require('pixyz-scheduler')` (and `pixyz-scheduler/geometry`) resolve to this
 * installation wherever the requiring script lies. ES modules need sdkImportResolution too.
 */
export function installSdkResolution(): void {
  const mod = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const original = mod._resolveFilename;
  mod._resolveFilename = function (request: string, ...rest: unknown[]) {
    return MODULES[request]?.cjs ?? original.call(this, request, ...rest);
  };
}

let importHook = false;

/**
 * The same for `import` (an ESM resolve hook: ES modules get facades over the same module
 * instances). Registered on first need: a module hook runs on a thread of its own, which a
 * process whose scripts are all CommonJS never pays for. Register TypeScript's ESM loader first.
 */
export function installSdkImportResolution(): void {
  if (importHook) return;
  importHook = true;
  const urls = Object.fromEntries(Object.entries(MODULES).map(([name, m]) => [name, pathToFileURL(m.esm).href]));
  register(pathToFileURL(path.join(__dirname, 'resolve-hook.mjs')), { data: { urls } });
}
