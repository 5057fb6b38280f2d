// Sub-tasks: children of a job, single tasks or upstream's canvases (group, chain, chord).
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  isCancellation,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  startChild,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { ErrorType } from '../shared/errors';
import { CONTROL_QUEUE, taskQueueName } from '../shared/queues';
import { jobVisibility } from '../shared/search-attributes';
import { CanvasInputTooLarge, countTasks, runCanvas, taskValue } from '../shared/canvas';
import { naiveUtc } from '../shared/time';
import { follows } from './path-version';
import type { Canvas, CanvasInput, JobInput, JobResult, TaskSignature } from '../shared/types';

export { taskIds } from '../shared/canvas';

/**
 * Children a job may have at once. Temporal refuses a workflow's 2,000th pending child
 * (limit.numPendingChildExecutions.error); stay well clear of it, with a clear message.
 */
export const MAX_PENDING_CHILDREN = 1000;

/** Refuses a canvas that is malformed or wider than a job may run at once. */
export function validateCanvas(c: Canvas, pending: number): void {
  const tasks = countTasks(c);
  if (tasks === 0) throw ApplicationFailure.nonRetryable('a sub-task group must hold at least one task', ErrorType.InvalidInput);
  if (pending + tasks > MAX_PENDING_CHILDREN) {
    throw ApplicationFailure.nonRetryable(
      `too many sub-tasks at once: ${pending} running + ${tasks} new > ${MAX_PENDING_CHILDREN}; join some before spawning more, or split the work into nested groups of jobs`,
      ErrorType.InvalidInput,
    );
  }
}

/** The child's JobInput, its defaults taken from the job that spawned it. */
export function childJob(parent: JobInput, sig: TaskSignature, params: unknown, parentInputFile: string | null): JobInput {
  const shared = sig.shareParent;
  // A clone works in its parent's directory, on the parent's input unless it names another file
  // (pc.clone({ data }), e.g. one part of an unpacked assembly): that file is its input as is.
  const ownInput = shared && sig.data !== null && sig.data !== parent.data;
  return {
    jobId: sig.id,
    // Another process's entrypoint (its script found by the activity that took the request), or the parent's script.
    ...(sig.process !== undefined && sig.script !== undefined ? { process: sig.process, script: sig.script } : { process: parent.process, script: parent.script }),
    entrypoint: sig.entrypoint,
    params,
    data: shared && !ownInput ? parent.data : sig.data,
    rootFile: shared ? parent.rootFile : sig.rootFile,
    queue: sig.queue,
    timeLimitSeconds: sig.timeLimitSeconds ?? parent.timeLimitSeconds,
    ...(parent.retries === undefined ? {} : { retries: parent.retries }),
    computeOnly: sig.computeOnly,
    name: sig.name ?? parent.name, // sub-tasks of job "demo" list as "demo" too (GET /jobs?all=true)
    timeRequest: naiveUtc(),
    taskQueuePrefix: parent.taskQueuePrefix,
    shareOf: shared ? (parent.shareOf ?? parent.jobId) : null,
    inputFile: shared ? (ownInput ? sig.data : parentInputFile) : null,
    parentId: parent.jobId,
    // A sub-task takes its parent's path (an older parent's, replayed, starts it as it did).
    ...(parent.pathVersion === undefined ? {} : { pathVersion: parent.pathVersion }),
  };
}

function childOptions(parent: JobInput, job: JobInput) {
  return {
    workflowId: job.jobId,
    taskQueue: taskQueueName(parent.taskQueuePrefix, CONTROL_QUEUE),
    args: [job] as [JobInput],
    // A parent that goes away (terminated, timed out) takes its children with it.
    parentClosePolicy: ParentClosePolicy.TERMINATE,
    // A job id names one job for good: never the run of another, even after the first is gone.
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    ...jobVisibility(job, { parentId: parent.jobId, shareOf: job.shareOf ?? null }, true),
  };
}

/** Starts one sub-task job as a child of the current workflow. */
export async function startTask(parent: JobInput, sig: TaskSignature, params: unknown, parentInputFile: string | null) {
  // pixyzJob is referenced by name: children.ts and job.ts would otherwise import each other.
  return startChild<(input: JobInput) => Promise<JobResult>>('pixyzJob', childOptions(parent, childJob(parent, sig, params, parentInputFile)));
}

export async function startCanvas(parent: JobInput, canvas: Canvas): Promise<ChildWorkflowHandle<(input: CanvasInput) => Promise<unknown>>> {
  return startChild<(input: CanvasInput) => Promise<unknown>>('pixyzCanvas', {
    workflowId: canvas.id,
    taskQueue: taskQueueName(parent.taskQueuePrefix, CONTROL_QUEUE),
    args: [{ canvas, parent }],
    parentClosePolicy: ParentClosePolicy.TERMINATE,
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    memo: { name: null, process: parent.process, timeRequest: parent.timeRequest, parentId: parent.jobId },
  });
}

/**
 * Since this patch, a member of a canvas that fails cancels its running siblings (they end
 * REVOKED and record it, as any cancelled job) before the canvas fails, with an error naming the
 * member. Before it, the canvas failed at once and its other children were terminated with it.
 */
export const CANVAS_REVOKES_SIBLINGS_PATCH = 'canvas-revokes-siblings-v1';

/** A canvas of sub-tasks as a workflow of its own: its tasks are its children. */
export async function pixyzCanvas({ canvas, parent }: CanvasInput): Promise<unknown> {
  const inputFile = parent.inputFile ?? null;
  const members = new CancellationScope();
  const running: Promise<unknown>[] = [];
  let failed: { sig: TaskSignature; err: unknown } | undefined;
  try {
    return await members.run(() =>
      runCanvas(canvas, async (sig, params) => {
        const child = await startTask(parent, sig, params, inputFile);
        const result = child.result();
        running.push(result.catch(() => {}));
        try {
          return taskValue(sig, await result);
        } catch (err) {
          // The first member to fail decides; the patch check sits where the old code path ends.
          if (!failed && !isCancellation(err) && follows(CANVAS_REVOKES_SIBLINGS_PATCH, parent.pathVersion)) {
            failed = { sig, err };
            members.cancel();
          }
          throw err;
        }
      }),
    );
  } catch (err) {
    if (err instanceof CanvasInputTooLarge) throw ApplicationFailure.nonRetryable(err.message, ErrorType.InvalidInput);
    if (!failed) throw err;
    // Every sibling has ended (REVOKED, recorded) before the canvas reports the failure.
    await Promise.all(running);
    throw memberFailure(canvas, failed.sig, failed.err, running.length - 1);
  }
}

/** The canvas's error: the failed member's own type and message, prefixed with which member it was. */
function memberFailure(canvas: Canvas, sig: TaskSignature, err: unknown, siblings: number): ApplicationFailure {
  let cause: unknown = err;
  while ((cause instanceof ChildWorkflowFailure || cause instanceof ActivityFailure) && cause.cause) cause = cause.cause;
  const type = cause instanceof ApplicationFailure ? (cause.type ?? ErrorType.InternalError) : ErrorType.InternalError;
  const message = cause instanceof Error ? cause.message : String(cause);
  const others = siblings > 0 ? `; the ${canvas.kind}'s other ${siblings} started sub-task(s) were revoked or had ended` : '';
  return ApplicationFailure.create({
    type,
    message: `sub-task ${sig.id} (${sig.entrypoint}) of ${canvas.kind} ${canvas.id} failed: ${message}${others}`,
    details: cause instanceof ApplicationFailure ? (cause.details as unknown[] | undefined) : undefined,
    nonRetryable: true,
    cause: err as Error,
  });
}
