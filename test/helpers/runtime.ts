import { DefaultLogger, Runtime } from '@temporalio/worker';

let installed = false;

/**
 * Temporal's runtime, quiet, once per test process: the files of a fork share their modules
 * (vitest.config.mts), and the SDK refuses a second install.
 */
export function installTestRuntime(): void {
  if (installed) return;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  installed = true;
}
