import Module, { register } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const SDK_ENTRY = path.join(__dirname, 'index.ts');
/** ES-module scripts get this facade over the same module instance. */
const SDK_ESM = path.join(__dirname, 'esm.mjs');

/**
 * Makes `pixyz-scheduler` resolve to this SDK wherever the importing script lies — for `import`
 * (an ESM resolve hook) and for `require` (CommonJS resolution) alike. Needs tsx loaded.
 */
export function installSdkResolution(): void {
  register(pathToFileURL(path.join(__dirname, 'resolve-hook.mjs')), { data: { sdkUrl: pathToFileURL(SDK_ESM).href } });
  const mod = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const original = mod._resolveFilename;
  mod._resolveFilename = function (request: string, ...rest: unknown[]) {
    return request === 'pixyz-scheduler' ? SDK_ENTRY : original.call(this, request, ...rest);
  };
}
