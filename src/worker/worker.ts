import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker, type WorkerTuner, type WorkflowBundleOption } from '@temporalio/worker';
import type { ComputeSlots } from '../activities/compute-slots';
import type { WarmUpInput } from '../shared/types';
import { naiveUtc } from '../shared/time';
import { createActivities } from '../activities';
import { startCleanup } from './cleanup';
import type { Config } from '../shared/config';
import type { Readiness } from '../shared/health';
import type { Logger } from '../shared/log';
import { CONTROL_QUEUE, SHARE_QUEUE, taskQueueName } from '../shared/queues';

/** Caps Temporal's heartbeat throttle, so that progress (and a cancel) gets through within a second. */
export const MAX_HEARTBEAT_THROTTLE = '250 milliseconds';
/** prepareShare/zipOutputs at once: I/O-bound, several can share a host. */
export const SHARE_CONCURRENCY = 8;

export interface Workers {
  queues: string[];
  run(): Promise<void>;
  /**
   * Once running, when this worker serves `control`: runs pixyzWarmUp (the job workflow's code, a
   * compute-only script on each of this worker's script queues), so that the first job does not
   * pay for first-time work. Resolves within WARM_UP_TIMEOUT_MS whatever happens (a slow or absent
   * server only leaves the first job slower).
   */
  warmUp(): Promise<void>;
  /** Ready while every queue's worker polls (not before run(), nor once stopping). */
  readiness: Readiness;
  shutdown(): Promise<void>;
}

export interface WorkerDeps {
  config: Config;
  connection: NativeConnection;
  namespace: string;
  log: Logger;
  /** Defaults to the configured worker queues. */
  queues?: readonly string[];
  /** A prebuilt bundle (tests share one); else the workflows are bundled once here. */
  workflowBundle?: WorkflowBundleOption;
  env?: NodeJS.ProcessEnv;
}

/**
 * Routes the Temporal SDK's own warnings to our log, without the expected "no workflows" notes;
 * with `metricsAddress` (WORKER_METRICS_ADDRESS, e.g. 0.0.0.0:9464), serves the SDK's own metrics
 * (task latencies, slots, polls…) for Prometheus.
 */
export function installTemporalRuntime(log: Logger, metricsAddress?: string): void {
  Runtime.install({
    ...(metricsAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsAddress } } } } : {}),
    logger: new DefaultLogger('WARN', (entry) => {
      if (entry.message.startsWith('No workflows registered')) return;
      const level = entry.level === 'ERROR' ? 'error' : 'warn';
      // Neither the task token (a credential for the task) nor a kilobyte of stack in the worker's log.
      const { taskToken: _token, error, ...meta } = (entry.meta ?? {}) as { taskToken?: unknown; error?: unknown };
      // A job or canvas that fails has done so through jobFailure (or a member's): its own error,
      // log and state.json say it; the worker's log need not repeat it.
      if (entry.message === 'Workflow failed' && ['pixyzJob', 'pixyzCanvas'].includes(String((meta as { workflowType?: unknown }).workflowType))) return;
      if (error !== undefined) (meta as Record<string, unknown>).error = String(error instanceof Error ? error.message : error).split('\n')[0]!.slice(0, 300);
      log[level](meta, entry.message);
    }),
  });
}

export function bundleWorkflows() {
  // A directory: webpack finds index.ts (from source) or index.js (built).
  return bundleWorkflowCode({ workflowsPath: path.join(__dirname, '..', 'workflows'), logger: quietBundlerLogger });
}

const quietBundlerLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (m: string) => console.warn(m),
  error: (m: string) => console.error(m),
};

/**
 * How long npm start waits for its warm-up before it says it is ready (a script queue busy with a
 * job resumed after a restart only makes the first new job slower).
 */
export const WARM_UP_TIMEOUT_MS = 3_000;
/** The warm-up workflow's own bound: it ends, whatever happens, and never lingers in the queues. */
const WARM_UP_WORKFLOW_TIMEOUT = '1 minute';

/** Slots a tuner must also name: workflow and local-activity tasks as the SDK's defaults; Nexus, unused here, a few. */
const WORKFLOW_TASK_SLOTS = 40;
const LOCAL_ACTIVITY_SLOTS = 100;
const NEXUS_TASK_SLOTS = 10;

/**
 * Slots of one queue's worker: on a script queue, activity slots come from its ComputeSlots (a
 * script waiting on sub-tasks holds none); on `share`, a fixed number.
 */
function tunerOf(slots: ComputeSlots | undefined): WorkerTuner {
  return {
    workflowTaskSlotSupplier: { type: 'fixed-size', numSlots: WORKFLOW_TASK_SLOTS },
    activityTaskSlotSupplier: slots ? slots.slotSupplier() : { type: 'fixed-size', numSlots: SHARE_CONCURRENCY },
    localActivityTaskSlotSupplier: { type: 'fixed-size', numSlots: LOCAL_ACTIVITY_SLOTS },
    nexusTaskSlotSupplier: { type: 'fixed-size', numSlots: NEXUS_TASK_SLOTS },
  };
}

/** One Temporal worker per served queue; workflows run on `control`. */
export async function createWorkers(deps: WorkerDeps): Promise<Workers> {
  const { config, connection, namespace } = deps;
  const queues = [...(deps.queues ?? config.worker.queues)];
  const { activities, pool, slots } = createActivities(config, deps.env, (m) => deps.log.info(m));
  const prebuilt = config.worker.workflowBundlePath ? { codePath: config.worker.workflowBundlePath } : undefined;
  const workflowBundle = queues.includes(CONTROL_QUEUE) ? (deps.workflowBundle ?? prebuilt ?? (await bundleWorkflows())) : undefined;
  const workers = await Promise.all(
    queues.map((queue) =>
      Worker.create({
        connection,
        namespace,
        taskQueue: taskQueueName(config.taskQueuePrefix, queue),
        activities,
        ...(queue === CONTROL_QUEUE ? { workflowBundle } : {}),
        tuner: tunerOf(slots.get(taskQueueName(config.taskQueuePrefix, queue))),
        maxHeartbeatThrottleInterval: MAX_HEARTBEAT_THROTTLE,
        shutdownGraceTime: config.worker.shutdownGraceMs,
      }),
    ),
  );
  deps.log.info(`worker ready on queues ${queues.map((q) => taskQueueName(config.taskQueuePrefix, q)).join(', ')}`);
  let running: Promise<void> | undefined;
  let stopCleanup = () => {};
  return {
    queues,
    async readiness() {
      const states = workers.map((w, i) => `${queues[i]}: ${w.getState()}`);
      return { ready: workers.every((w) => w.getState() === 'RUNNING'), detail: states.join(', ') };
    },
    run() {
      // Only a worker that runs scripts keeps script processes ready.
      if (queues.some((q) => q !== SHARE_QUEUE)) pool.warm();
      // The worker that prepares and zips job directories also removes the expired ones.
      if (queues.includes(SHARE_QUEUE) && !running) {
        stopCleanup = startCleanup({
          sharePath: config.sharePath,
          retentionSeconds: config.jobRetentionSeconds,
          intervalMs: config.cleanupIntervalMs,
          log: deps.log,
        });
      }
      running ??= Promise.all(workers.map((w) => w.run())).then(() => pool.close());
      return running;
    },
    async warmUp() {
      if (!queues.includes(CONTROL_QUEUE)) return;
      const client = new Client({ connection, namespace });
      const run = client.workflow
        .execute('pixyzWarmUp', {
          taskQueue: taskQueueName(config.taskQueuePrefix, CONTROL_QUEUE),
          workflowId: `pixyz-warm-up-${os.hostname()}-${process.pid}-${Date.now()}`,
          workflowExecutionTimeout: WARM_UP_WORKFLOW_TIMEOUT,
          args: [
            {
              // This worker's script queues (not `share`); each run also warms the job workflow's code.
              queues: queues.filter((q) => q !== SHARE_QUEUE),
              taskQueuePrefix: config.taskQueuePrefix,
              timeRequest: naiveUtc(),
            } satisfies WarmUpInput,
          ],
        })
        .catch((err: Error) => deps.log.warn(`warm-up workflow: ${err.message}`));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([run, new Promise((resolve) => (timer = setTimeout(resolve, WARM_UP_TIMEOUT_MS)))]);
      clearTimeout(timer);
    },
    async shutdown() {
      stopCleanup();
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
      pool.close();
    },
  };
}

/** `node --import tsx src/worker/worker.ts --bundle FILE`: writes the bundle (the image's build step, WORKFLOW_BUNDLE). */
if (require.main === module && process.argv[2] === '--bundle' && process.argv[3]) {
  const file = process.argv[3];
  void bundleWorkflows().then(({ code }) => fs.writeFileSync(file, code));
}
