// Logical queue names (upstream's) and how they become Temporal task queue names. Imported by
// workflows too: keep it free of Node built-ins.

/** Workflows, and scripts that mostly wait on sub-tasks. */
export const CONTROL_QUEUE = 'control';
export const CPU_QUEUE = 'cpu';
export const GPU_QUEUE = 'gpu';
/** Internal: prepareShare and zipOutputs, so that waiting parents never starve them. */
export const SHARE_QUEUE = 'share';

export const STANDARD_QUEUES: readonly string[] = [CONTROL_QUEUE, CPU_QUEUE, GPU_QUEUE];
/** Upstream's API default when neither the job nor the script names a queue. */
export const DEFAULT_SCRIPT_QUEUE = CPU_QUEUE;

export function taskQueueName(prefix: string, queue: string): string {
  return `${prefix}${queue}`;
}
