import { extractLimits, type Config } from '../shared/config';
import { CONTROL_QUEUE, taskQueueName } from '../shared/queues';
import { ComputeSlots } from './compute-slots';
import { createRunnerPools, createScriptActivities } from './run-script';
import { createShareActivities } from './share';

/**
 * All activities, built from their dependencies (the worker registers them), with the pools of
 * script processes they use (Node's and Python's), which the worker closes when it stops.
 */
export function createActivities(config: Config, env: NodeJS.ProcessEnv = process.env, log?: (message: string) => void) {
  const pool = createRunnerPools({
    python: config.python,
    scriptMaxMemoryMb: config.worker.scriptMaxMemoryMb,
    niceness: config.worker.scriptNiceness,
    poolSize: config.worker.runnerPoolSize,
    maxJobs: config.worker.runnerMaxJobs,
    maxMemoryMb: config.worker.runnerMaxMemoryMb,
    env,
    log,
  });
  // One set of compute slots per script queue (CONCURRENT_TASKS; CONTROL_CONCURRENCY on control),
  // shared by the worker's tuner and the runScript activity.
  const slots = new Map<string, ComputeSlots>(
    config.queues.map((queue) => [
      taskQueueName(config.taskQueuePrefix, queue),
      new ComputeSlots(queue === CONTROL_QUEUE ? config.worker.controlConcurrency : config.worker.concurrentTasks),
    ]),
  );
  const activities = {
    ...createShareActivities({
      sharePath: config.sharePath,
      limits: extractLimits(config),
    }),
    ...createScriptActivities({ sharePath: config.sharePath, processPath: config.processPath, queues: config.queues, python: config.python, computeSlots: (taskQueue) => slots.get(taskQueue) }, pool),
  };
  return { activities, pool, slots };
}

export type Activities = ReturnType<typeof createActivities>['activities'];
export type ShareActivities = ReturnType<typeof createShareActivities>;
export type ScriptActivities = ReturnType<typeof createScriptActivities>;
