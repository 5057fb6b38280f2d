import type { Config } from '../shared/config';
import { createScriptActivities } from './run-script';
import { createShareActivities } from './share';

/** All activities, built from their dependencies (the worker registers them). */
export function createActivities(config: Config, env: NodeJS.ProcessEnv = process.env) {
  return {
    ...createShareActivities({
      sharePath: config.sharePath,
      limits: {
        maxBytes: config.maxExtractBytes,
        maxEntries: config.maxExtractEntries,
        maxRatio: config.maxExtractRatio,
      },
    }),
    ...createScriptActivities({
      sharePath: config.sharePath,
      queues: config.queues,
      scriptMaxMemoryMb: config.worker.scriptMaxMemoryMb,
      env,
    }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type ShareActivities = ReturnType<typeof createShareActivities>;
export type ScriptActivities = ReturnType<typeof createScriptActivities>;
