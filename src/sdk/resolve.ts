import Module, { register } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const SRC = path.resolve(__dirname, '..');

/** What a job script may import by name, for require (CommonJS) and import (ES modules). */
const MODULES: Record<string, { cjs: string; esm: string }> = {
  'pixyz-scheduler': { cjs: path.join(SRC, 'sdk', 'index.ts'), esm: path.join(SRC, 'sdk', 'esm.mjs') },
  'pixyz-scheduler/geometry': { cjs: path.join(SRC, 'geometry', 'index.ts'), esm: path.join(SRC, 'geometry', 'esm.mjs') },
};

/**
 * Makes `pixyz-scheduler` (and `pixyz-scheduler/geometry`) resolve to this installation wherever
 * the importing script lies — for `import` (an ESM resolve hook; ES modules get facades over the
 * same module instances) and for `require` alike. Needs tsx loaded.
 */
export function installSdkResolution(): void {
  const urls = Object.fromEntries(Object.entries(MODULES).map(([name, m]) => [name, pathToFileURL(m.esm).href]));
  register(pathToFileURL(path.join(__dirname, 'resolve-hook.mjs')), { data: { urls } });
  const mod = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const original = mod._resolveFilename;
  mod._resolveFilename = function (request: string, ...rest: unknown[]) {
    return MODULES[request]?.cjs ?? original.call(this, request, ...rest);
  };
}
