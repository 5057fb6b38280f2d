import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import { fromPayloadsAtIndex } from '@temporalio/common/lib/converter/payload-converter';
import { temporal } from '@temporalio/proto';
import { ErrorType } from '../shared/errors';
import fsp from 'node:fs/promises';
import { jobPaths } from '../shared/share';
import { awareUtc } from '../shared/time';
import type { FinalState, JobMemo, JobResult, JobStatus, ProgressSnapshot, ProgressStep, TimeInfo } from '../shared/types';

/** Upstream's JobState. */
export interface JobState {
  uuid: string;
  name: string | null;
  /** SENT only in the reply to POST /jobs, as upstream. */
  status: JobStatus | 'SENT';
  progress: number | null;
  error: string | null;
}

/** Upstream's JobDetails. */
export interface JobDetails extends JobState {
  status: JobStatus;
  time_info: TimeInfo;
  steps: ProgressStep[] | null;
  retry: number;
  result: unknown;
  /** Beyond upstream: the job's sub-tasks so far, when it has any. */
  children?: { started: number; done: number; failed: number };
}

export class JobNotFoundError extends Error {}

/** The workflow type of every job, sub-tasks included: any other workflow of the namespace is not a job. */
export const JOB_WORKFLOW_TYPE = 'pixyzJob';

/**
 * A job's description from Temporal, or null when Temporal knows no job by that id: no workflow,
 * or a workflow of another type (a canvas, or anything else started in the namespace).
 */
export async function describeJob(client: Client, jobId: string): Promise<WorkflowExecutionDescription | null> {
  try {
    const desc = await client.workflow.getHandle(jobId).describe();
    return desc.type === JOB_WORKFLOW_TYPE ? desc : null;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/** Upstream's error texts, by our failure types. */
function upstreamError(type: string | undefined, message: string): string {
  switch (type) {
    case ErrorType.ScriptTimeout:
      return 'Task process timeout';
    case ErrorType.ScriptExited:
    case ErrorType.ScriptKilled:
      return 'Task process exited with error';
    default:
      return message || 'Internal error';
  }
}

/** ISO with microseconds and +00:00, as upstream prints aware times. */
export function isoUtc(date: Date | string | null | undefined): string | null {
  if (!date) return null;
  const d = typeof date === 'string' ? new Date(date) : date;
  return awareUtc(d);
}

interface FailureDetails {
  stack?: string | null;
  progress?: ProgressSnapshot | null;
  /** The script attempt that failed (1 = the first). */
  attempt?: number;
}

/** A job Temporal no longer knows (its history expired), from the state.json it wrote when it ended. */
async function fromStateFile(sharePath: string, jobId: string): Promise<JobDetails | null> {
  let state: FinalState;
  try {
    state = JSON.parse(await fsp.readFile(jobPaths(sharePath, jobId).state, 'utf8')) as FinalState;
  } catch {
    return null;
  }
  return {
    uuid: jobId,
    name: state.name,
    status: state.status,
    progress: state.status === 'SUCCESS' ? 100 : (state.progress?.progress ?? null),
    error: state.error ? upstreamError(state.error.type, state.error.message) : null,
    time_info: { request: state.timeInfo.request, started: isoUtc(state.timeInfo.started), stopped: isoUtc(state.timeInfo.stopped) },
    steps: state.progress?.steps ?? null,
    retry: state.retry,
    result: state.status === 'SUCCESS' ? state.result : (state.error?.stack ?? null),
  };
}

/**
 * Reads one job's state from Temporal: describe for live state, the result for finished ones;
 * with `sharePath`, a success from the job's state.json, and any job from it once Temporal has
 * forgotten it.
 */
export async function readJob(client: Client, jobId: string, sharePath?: string): Promise<JobDetails> {
  const handle = client.workflow.getHandle(jobId);
  const desc = await describeJob(client, jobId);
  if (desc === null) {
    const saved = sharePath ? await fromStateFile(sharePath, jobId) : null;
    if (saved) return saved;
    throw new JobNotFoundError(`Job '${jobId}' does not exist`);
  }
  const memo = (desc.memo ?? {}) as Partial<JobMemo>;
  // A finished job's own record (what its result would say) is a local read; its result from
  // Temporal is one more call, which the job's last poll would wait for.
  const recorded = desc.status.name === 'COMPLETED' && sharePath ? await fromStateFile(sharePath, jobId) : null;
  const details = recorded?.status === 'SUCCESS' ? recorded : await detailsOf(client, handle, desc, memo, jobId);
  return memo.children ? { ...details, children: memo.children } : details;
}

async function detailsOf(
  client: Client,
  handle: ReturnType<Client['workflow']['getHandle']>,
  desc: WorkflowExecutionDescription,
  memo: Partial<JobMemo>,
  jobId: string,
): Promise<JobDetails> {
  const base = {
    uuid: jobId,
    name: memo.name ?? null,
    time_info: { request: memo.timeRequest ?? null, started: null, stopped: isoUtc(desc.closeTime) } as TimeInfo,
  };

  switch (desc.status.name) {
    case 'COMPLETED': {
      const out = (await handle.result()) as JobResult;
      return {
        ...base,
        status: 'SUCCESS',
        progress: 100,
        error: null,
        time_info: { request: base.time_info.request, started: isoUtc(out.timeInfo.started), stopped: isoUtc(out.timeInfo.stopped) ?? base.time_info.stopped },
        steps: out.progress.steps,
        retry: out.retry ?? 0,
        result: out.result,
      };
    }
    case 'CANCELLED':
      return { ...base, status: 'REVOKED', progress: null, error: null, steps: null, retry: 0, result: null };
    case 'FAILED':
    case 'TIMED_OUT':
    case 'TERMINATED': {
      let error = desc.status.name === 'TERMINATED' ? 'Job terminated' : 'Internal error';
      let traceback: string | null = null;
      let progress: ProgressSnapshot | null = null;
      let retry = 0;
      try {
        await handle.result();
      } catch (err) {
        if (err instanceof WorkflowFailedError && err.cause instanceof TemporalFailure) {
          const cause = err.cause;
          const type = cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
          const details = (cause instanceof ApplicationFailure ? cause.details?.[0] : undefined) as FailureDetails | undefined;
          error = upstreamError(type, cause.message);
          traceback = details?.stack ?? cause.stack ?? null;
          progress = details?.progress ?? null;
          retry = Math.max(0, (details?.attempt ?? 1) - 1);
        }
      }
      return {
        ...base,
        status: 'FAILURE',
        progress: progress?.progress ?? null,
        error,
        time_info: { ...base.time_info, started: isoUtc(progress?.started) },
        steps: progress?.steps ?? null,
        retry,
        result: traceback,
      };
    }
    default:
      return runningState(client, desc, base);
  }
}

/** A job whose workflow still runs, from its description (exported for its unit test). */
export function runningState(
  client: Client,
  desc: WorkflowExecutionDescription,
  base: { uuid: string; name: string | null; time_info: TimeInfo },
): JobDetails {
  const pending = desc.raw.pendingActivities?.find((a) => a.activityType?.name === 'runScript');
  const attempt = pending?.attempt ?? 1;
  const payloads = pending?.heartbeatDetails?.payloads;
  const progress =
    payloads && payloads.length > 0
      ? (fromPayloadsAtIndex(client.options.loadedDataConverter.payloadConverter, 0, payloads) as ProgressSnapshot | undefined)
      : undefined;
  let status: JobStatus;
  // Before the script (preparing the share: PENDING) or after it (archiving: RUNNING once it
  // succeeded, FAILURE once it failed): the workflow says which.
  const phase = desc.searchAttributes?.PixyzStatus?.[0];
  if (!pending) {
    status = phase === 'RUNNING' || phase === 'FAILURE' ? 'RUNNING' : 'PENDING';
  } else if (attempt > 1) status = 'RETRY';
  else if (pending.state !== temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED) status = progress ? 'RUNNING' : 'STARTED';
  else status = 'PENDING';
  const started = pending?.lastStartedTime ? tsToDate(pending.lastStartedTime) : null;
  return {
    ...base,
    status,
    progress: !pending && phase === 'RUNNING' ? 100 : (progress?.progress ?? null),
    error: null,
    time_info: { ...base.time_info, started: isoUtc(progress?.started ?? started) },
    steps: progress?.steps ?? (status === 'RUNNING' ? [] : null),
    retry: Math.max(0, attempt - 1),
    result: {},
  };
}

function tsToDate(ts: { seconds?: unknown; nanos?: number | null }): Date {
  const seconds = Number(ts.seconds ?? 0);
  return new Date(seconds * 1000 + Math.floor((ts.nanos ?? 0) / 1e6));
}

export function jobState(details: JobDetails): JobState {
  const { uuid, name, status, progress, error } = details;
  return { uuid, name, status, progress, error };
}

/** Upstream's raw Celery meta (GET /backend/get_task_meta/{id}), from the same reading. */
export async function taskMeta(client: Client, id: string) {
  const unknown = { status: 'PENDING', result: null, traceback: null, children: [] as string[], parent_id: null, task_id: id, date_done: null };
  let details: JobDetails;
  let memo: Partial<JobMemo>;
  try {
    details = await readJob(client, id);
    memo = ((await client.workflow.getHandle(id).describe()).memo ?? {}) as Partial<JobMemo>;
  } catch (err) {
    if (err instanceof JobNotFoundError) return unknown; // upstream answers PENDING for any id
    throw err;
  }
  const children: string[] = [];
  for await (const wf of client.workflow.list({ query: `ParentWorkflowId = "${id}"` })) children.push(wf.workflowId);
  const failed = details.status === 'FAILURE';
  return {
    status: details.status,
    result: details.status === 'SUCCESS' ? details.result : failed ? details.error : null,
    traceback: failed ? details.result : null,
    children,
    parent_id: memo.parentId ?? null,
    task_id: id,
    date_done: details.time_info.stopped,
  };
}
