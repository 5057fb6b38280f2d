// The runScript activity's side of sub-tasks: what a script asks (spawn, join, status) becomes
// an Update to the job's own workflow, or a wait on a child's result.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, TemporalFailure } from '@temporalio/common';
import { REPO_ROOT } from '../shared/config';
import { lateJoinMessage, withDeadline } from '../shared/deadline';
import { ErrorType } from '../shared/errors';
import { processScript } from '../shared/processes';
import { closedJobStatus } from '../shared/job-status';
import type { RunnerReply, RunnerRequest } from '../shared/protocol';
import { countTasks, jsonBytes, MAX_SPAWN_BYTES, MAX_SUB_TASK_PARAMS_BYTES } from '../shared/canvas';
import { isInside, isJobId, toShare } from '../shared/share';
import type { Canvas, JobResult, TaskSignature } from '../shared/types';
import { CONTROL_QUEUE } from '../shared/queues';
import { inspectAnyScript } from '../api/script-options';
import { spawnUpdate } from '../shared/definitions';

export interface SubTaskDeps {
  sharePath: string;
  /** Where a sub-task naming a process finds its script (PROCESS_PATH). */
  processPath: string;
  /** Queues a sub-task may name (QUEUES). */
  queues: readonly string[];
  /** The interpreter that reads a Python process's options (PIXYZ_PYTHON). */
  python: string;
}

class RequestError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly childId?: string,
  ) {
    super(message);
  }
}

/**
 * Checks a canvas from a script and turns its absolute paths into share-relative ones; a task
 * naming a process takes that process's queue and run limit where the script set none.
 */
async function normalizeCanvas(c: Canvas, deps: SubTaskDeps): Promise<Canvas> {
  if (!isJobId(c.id)) throw new RequestError(ErrorType.InvalidInput, `sub-task id '${c.id}' is not a UUID`);
  switch (c.kind) {
    case 'task': {
      // The process's script, found once: its options first, the task's own path below.
      const file = c.process === undefined ? null : processScript(deps.processPath, c.process);
      if (file !== null) c = await withProcessOptions(c, file, deps);
      const bytes = jsonBytes(c.params);
      if (bytes > MAX_SUB_TASK_PARAMS_BYTES) {
        throw new RequestError(
          ErrorType.InvalidInput,
          `the params of sub-task ${c.id} (${c.entrypoint}) are ${bytes} bytes of JSON, over the ${MAX_SUB_TASK_PARAMS_BYTES}-byte limit: write large data to a file in pc.getOutputDir() and pass its name`,
        );
      }
      if (!deps.queues.includes(c.queue)) {
        throw new RequestError(ErrorType.InvalidInput, `Invalid queue '${c.queue}': configured queues are ${deps.queues.join(', ')} (QUEUES)`);
      }
      let data = c.data;
      if (data !== null) {
        const abs = path.resolve(deps.sharePath, data);
        if (!isInside(deps.sharePath, abs)) {
          throw new RequestError(ErrorType.PixyzSecurityViolation, `a sub-task's data must lie in the share: '${data}' does not`);
        }
        data = toShare(deps.sharePath, abs);
      }
      const { script: _unchecked, queueDefaulted: _applied, ...task } = c; // a script names a process, never a file
      if (c.process === undefined) return { ...task, data };
      if (file === null) {
        throw new RequestError(ErrorType.InvalidInput, `sub-task ${c.id} names the process '${c.process}', which is not one: the processes are the scripts in PROCESS_PATH`);
      }
      return { ...task, data, script: path.relative(REPO_ROOT, file) };
    }
    case 'group':
    case 'chain':
      return { ...c, items: await Promise.all(c.items.map((i) => normalizeCanvas(i, deps))) };
    case 'chord':
      return { ...c, header: await Promise.all(c.header.map((i) => normalizeCanvas(i, deps))), body: await normalizeCanvas(c.body, deps) };
  }
}

/** Process options being read, by file and entrypoint: a group of a thousand tasks of one process reads them once. */
const readingOptions = new Map<string, Promise<Record<string, unknown>>>();

function processOptions(file: string, entrypoint: string, python: string): Promise<Record<string, unknown>> {
  const key = `${file}\0${entrypoint}`;
  let reading = readingOptions.get(key);
  if (!reading) {
    // Remembered by content beyond this read (inspectAnyScript): an edited process is read anew.
    reading = fsp
      .readFile(file, 'utf8')
      .then(async (source) => (await inspectAnyScript(path.basename(file), source, entrypoint, python)).options)
      .finally(() => readingOptions.delete(key));
    readingOptions.set(key, reading);
  }
  return reading;
}

/**
 * A task naming a process, with the queue and run limit that process states in its
 * `pixyzSchedule` (`@pixyz_schedule`), as when it is posted to the API, where the script set none.
 */
async function withProcessOptions(c: TaskSignature, file: string, deps: SubTaskDeps): Promise<TaskSignature> {
  let scheduled: Record<string, unknown>;
  try {
    scheduled = await processOptions(file, c.entrypoint, deps.python);
  } catch (err) {
    throw new RequestError(ErrorType.InvalidInput, `sub-task ${c.id}: the options of the process '${c.process}' cannot be read: ${(err as Error).message}`);
  }
  const queue = typeof scheduled.queue === 'string' ? scheduled.queue : scheduled.wait === true ? CONTROL_QUEUE : undefined;
  const timeLimit = typeof scheduled.timeLimit === 'number' ? scheduled.timeLimit : null;
  return { ...c, ...(c.queueDefaulted && queue !== undefined ? { queue } : {}), timeLimitSeconds: c.timeLimitSeconds ?? timeLimit };
}

/** The failure a script sees: the child's own type and message, wherever it sits in the chain. */
function childError(err: unknown, childId: string): RequestError {
  let cause: unknown = err instanceof WorkflowFailedError || err instanceof WorkflowUpdateFailedError ? err.cause : err;
  while (cause instanceof TemporalFailure && !(cause instanceof ApplicationFailure) && !(cause instanceof CancelledFailure) && cause.cause) {
    cause = cause.cause;
  }
  if (cause instanceof CancelledFailure) return new RequestError(ErrorType.Cancelled, `sub-task ${childId} was cancelled`, childId);
  if (cause instanceof ApplicationFailure) return new RequestError(cause.type ?? ErrorType.InternalError, cause.message, childId);
  const message = cause instanceof Error ? cause.message : String(cause);
  return new RequestError(ErrorType.InternalError, message, childId);
}

/**
 * How long one wait on a sub-task's result lasts before it is asked again. The worker's connection
 * cannot abort a call in flight, so a join given up (its script gone, its job cancelled) stops
 * waiting at once and leaves Temporal's long poll behind for at most this long.
 */
export const JOIN_POLL_MS = 10_000;
let joinPollMs = JOIN_POLL_MS;
/** For tests: a shorter long poll, so that a join outlasting several of them is quick to test. */
export function setJoinPollMs(ms: number): void {
  joinPollMs = ms;
}

/** A child's result, waited for in long polls of JOIN_POLL_MS; rejects as soon as `signal` aborts. */
async function resultOf(client: Client, id: string, signal: AbortSignal): Promise<unknown> {
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new RequestError(ErrorType.Cancelled, `the wait on sub-task ${id} was given up`, id));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    for (;;) {
      const deadline = Date.now() + joinPollMs;
      const poll = client.withDeadline(deadline, () => client.workflow.getHandle(id).result());
      try {
        return await Promise.race([poll, aborted]);
      } catch (err) {
        // Past its deadline the call fails (DEADLINE_EXCEEDED from the server, or CANCELLED
        // "Timeout expired" from the client, whichever comes first): ask again.
        if (signal.aborted || Date.now() < deadline) throw err;
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

async function handle(req: RunnerRequest, deps: SubTaskDeps, ctx: Context, signal: AbortSignal): Promise<unknown> {
  const client = ctx.client;
  switch (req.op) {
    case 'spawn': {
      const canvas = await normalizeCanvas(req.canvas, deps);
      const bytes = jsonBytes(canvas);
      if (bytes > MAX_SPAWN_BYTES) {
        throw new RequestError(
          ErrorType.InvalidInput,
          `this ${canvas.kind} of ${countTasks(canvas)} sub-task(s) is ${bytes} bytes of JSON with its params, over the ${MAX_SPAWN_BYTES}-byte limit of one spawn: split it, or pass file names rather than data`,
          canvas.id,
        );
      }
      const jobId = ctx.info.workflowExecution!.workflowId;
      try {
        return await client.workflow.getHandle(jobId).executeUpdate(spawnUpdate, { args: [{ canvas }] });
      } catch (err) {
        throw childError(err, canvas.id);
      }
    }
    case 'join': {
      try {
        const value = await withDeadline(resultOf(client, req.id, signal), req.timeoutMs, () => new RequestError('TimeoutError', lateJoinMessage(req.id, req.timeoutMs!), req.id));
        return req.kind === 'task' ? (value as JobResult).result : value;
      } catch (err) {
        throw err instanceof RequestError ? err : childError(err, req.id);
      }
    }
    case 'status': {
      try {
        const desc = await client.workflow.getHandle(req.id).describe();
        return closedJobStatus(desc.status.name) ?? 'RUNNING';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return 'PENDING';
        throw err;
      }
    }
  }
}

/** Requests of script processes being answered in this worker (a join waits as long as its sub-tasks run). */
let inFlight = 0;
export function requestsInFlight(): number {
  return inFlight;
}

/**
 * Answers one request of the script process; never throws. `ctx` is the runScript activity's
 * context, passed in: IPC callbacks of a pre-started process run outside it. `jobOver` aborts
 * the request (a join's wait on Temporal) when the script is gone before its answer.
 */
export async function answer(req: RunnerRequest, deps: SubTaskDeps, ctx: Context, jobOver?: AbortSignal): Promise<RunnerReply> {
  inFlight += 1;
  try {
    const signal = jobOver ? AbortSignal.any([ctx.cancellationSignal, jobOver]) : ctx.cancellationSignal;
    return { ok: true, value: await handle(req, deps, ctx, signal) };
  } catch (err) {
    const e = err instanceof RequestError ? err : new RequestError(ErrorType.InternalError, (err as Error)?.message ?? String(err));
    return { ok: false, error: { type: e.type, name: 'SubTaskError', message: e.message, stack: null, childId: e.childId } };
  } finally {
    inFlight -= 1;
  }
}
