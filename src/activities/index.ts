import { extractLimits, type Config } from '../shared/config';
import { createRunnerPool, createScriptActivities } from './run-script';
import { createShareActivities } from './share';

/**
 * All activities, built from their dependencies (the worker registers them), with the pool of
 * script processes they use, which the worker closes when it stops.
 */
export function createActivities(config: Config, env: NodeJS.ProcessEnv = process.env) {
  const pool = createRunnerPool({
    scriptMaxMemoryMb: config.worker.scriptMaxMemoryMb,
    niceness: config.worker.scriptNiceness,
    poolSize: config.worker.runnerPoolSize,
    env,
  });
  const activities = {
    ...createShareActivities({
      sharePath: config.sharePath,
      limits: extractLimits(config),
    }),
    ...createScriptActivities({ sharePath: config.sharePath, queues: config.queues }, pool),
  };
  return { activities, pool };
}

export type Activities = ReturnType<typeof createActivities>['activities'];
export type ShareActivities = ReturnType<typeof createShareActivities>;
export type ScriptActivities = ReturnType<typeof createScriptActivities>;
