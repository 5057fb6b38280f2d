import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import { fromPayloadsAtIndex } from '@temporalio/common/lib/converter/payload-converter';
import { temporal } from '@temporalio/proto';
import fsp from 'node:fs/promises';
import { closedJobStatus, endedFromOutside, runningJobStatus, upstreamError, type FailureDetails, type FinishedStatus } from '../shared/job-status';
import { JOB_STATUS } from '../shared/search-attributes';
import { jobPaths } from '../shared/share';
import { isoUtc } from '../shared/time';
import type { FinalState, JobInput, JobMemo, JobResult, JobStatus, ProgressSnapshot, ProgressStep, TimeInfo } from '../shared/types';

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
  /** Beyond upstream: for a PENDING job, its script's queue, the tasks waiting in it, the workers polling it. */
  waiting?: { queue: string; backlog: number; workers: number };
}

export class JobNotFoundError extends Error {}

/**
 * Where this deployment's jobs are: its Temporal client, its share, and the task queue its job
 * workflows run on (`<TASK_QUEUE_PREFIX>control`) — a deployment sharing a namespace with others
 * sees only its own jobs.
 */
export interface JobSource {
  client: Client;
  controlQueue: string;
  sharePath?: string;
}

/** What a workflow's visibility record and its description both tell of it. */
type Execution = Pick<WorkflowExecutionInfo, 'workflowId' | 'status' | 'memo' | 'typedSearchAttributes' | 'closeTime'>;

/** The workflow type of every job, sub-tasks included: any other workflow of the namespace is not a job. */
export const JOB_WORKFLOW_TYPE = 'pixyzJob';

/**
 * A job's description from Temporal, or null when Temporal knows no job of this deployment by that
 * id: no workflow, a workflow of another type (a canvas, or anything else started in the
 * namespace), or a job of another deployment (another TASK_QUEUE_PREFIX).
 */
export async function describeJob({ client, controlQueue }: JobSource, jobId: string): Promise<WorkflowExecutionDescription | null> {
  try {
    const desc = await client.workflow.getHandle(jobId).describe();
    return desc.type === JOB_WORKFLOW_TYPE && desc.taskQueue === controlQueue ? desc : null;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/** A finished job from the state.json it wrote as it ended: all it shows, even once Temporal has forgotten it. */
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
    // A failure's traceback: the script's stack, or what happened to its process when it has none.
    result: state.status === 'SUCCESS' ? state.result : (state.error?.stack ?? state.error?.message ?? null),
  };
}

/**
 * A job's state as its workflow's visibility record (or description) says it, with no other call:
 * its status, phase and children counts, and for a failed job the error it published as it
 * ended. (A job failed under a release before published-state-v1 published none: its failure is
 * read from Temporal.) A running job shows PENDING or RUNNING, without a percentage: the live
 * progress is in its details.
 */
export async function stateOf(client: Client, info: Execution): Promise<JobState> {
  const memo = (info.memo ?? {}) as Partial<JobMemo>;
  const base = { uuid: info.workflowId, name: memo.name ?? null };
  const status = closedJobStatus(info.status.name);
  switch (status) {
    case null:
      return { ...base, status: runningJobStatus(info.typedSearchAttributes.get(JOB_STATUS)), progress: null, error: null };
    case 'SUCCESS':
      return { ...base, status, progress: 100, error: null };
    case 'REVOKED':
      return { ...base, status, progress: null, error: null };
    case 'FAILURE': {
      const outside = endedFromOutside(info.status.name);
      if (outside) return { ...base, status, progress: null, error: outside };
      if (memo.failure) return { ...base, status, progress: memo.failure.progress, error: memo.failure.error };
      return jobState(await failedDetails(client, info, memo));
    }
  }
}

/** A job's state (GET /jobs/{id}): a running one with its live status and progress. */
export async function readJobState(jobs: JobSource, jobId: string): Promise<JobState> {
  const { client, sharePath } = jobs;
  const desc = await describeJob(jobs, jobId);
  if (desc === null) return jobState(await forgotten(jobId, sharePath));
  return closedJobStatus(desc.status.name) === null ? jobState(runningDetails(client, desc)) : stateOf(client, desc);
}

/**
 * A job's details (GET /jobs/{id}/details): a running one from its workflow's description, a
 * finished one from the state.json it wrote as it ended (or from Temporal when it has no
 * directory of its own), and from state.json alone once Temporal has forgotten it.
 */
export async function readJob(jobs: JobSource, jobId: string, described?: WorkflowExecutionDescription | null): Promise<JobDetails> {
  const desc = described === undefined ? await describeJob(jobs, jobId) : described;
  if (desc === null) return forgotten(jobId, jobs.sharePath);
  return detailsOf(jobs.client, desc, jobs.sharePath);
}

async function forgotten(jobId: string, sharePath: string | undefined): Promise<JobDetails> {
  const saved = sharePath ? await fromStateFile(sharePath, jobId) : null;
  if (saved) return saved;
  throw new JobNotFoundError(`Job '${jobId}' does not exist`);
}

async function detailsOf(client: Client, desc: WorkflowExecutionDescription, sharePath?: string): Promise<JobDetails> {
  const memo = (desc.memo ?? {}) as Partial<JobMemo>;
  const status = closedJobStatus(desc.status.name);
  const recorded = status !== null && sharePath ? await fromStateFile(sharePath, desc.workflowId) : null;
  const details = recorded ?? (status === null ? runningDetails(client, desc) : await closedDetails(client, desc, memo, status));
  const waiting = details.status === 'PENDING' && memo.scriptQueue ? await queueState(client, memo.scriptQueue) : null;
  return { ...details, ...(memo.children ? { children: memo.children } : {}), ...(waiting ? { waiting } : {}) };
}

/** Queue states read in the last QUEUE_STATE_TTL_MS: every watcher of a PENDING job asks. */
const queueStates = new Map<string, { at: number; state: Promise<JobDetails['waiting'] | null> }>();
const QUEUE_STATE_TTL_MS = 2000;

/** A script queue's backlog and pollers (null when Temporal cannot say), read at most every 2 s. */
function queueState(client: Client, taskQueue: string): Promise<JobDetails['waiting'] | null> {
  const key = `${client.options.namespace}/${taskQueue}`;
  const cached = queueStates.get(key);
  if (cached && Date.now() - cached.at < QUEUE_STATE_TTL_MS) return cached.state;
  if (queueStates.size > 1000) queueStates.clear();
  const state = readQueueState(client, taskQueue);
  queueStates.set(key, { at: Date.now(), state });
  return state;
}

async function readQueueState(client: Client, taskQueue: string): Promise<JobDetails['waiting'] | null> {
  try {
    const res = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      reportStats: true,
    });
    return { queue: taskQueue, backlog: Number(res.stats?.approximateBacklogCount ?? 0), workers: res.pollers?.length ?? 0 };
  } catch {
    return null;
  }
}

export const baseOf = (info: Pick<Execution, 'workflowId' | 'closeTime'>, memo: Partial<JobMemo>) => ({
  uuid: info.workflowId,
  name: memo.name ?? null,
  time_info: { request: memo.timeRequest ?? null, started: null, stopped: isoUtc(info.closeTime) } as TimeInfo,
});

/** A finished job without a state.json (a sub-task without a directory of its own, or one whose record was lost), from Temporal. */
async function closedDetails(client: Client, info: Execution, memo: Partial<JobMemo>, status: FinishedStatus): Promise<JobDetails> {
  const base = baseOf(info, memo);
  switch (status) {
    case 'SUCCESS':
      return successDetails(base, (await client.workflow.getHandle(info.workflowId).result()) as JobResult);
    case 'REVOKED':
      return { ...base, status, progress: null, error: null, steps: null, retry: 0, result: null };
    case 'FAILURE':
      return failedDetails(client, info, memo);
  }
}

/** A successful job's details from its workflow's result (`base`: what its memo says, and its close time). */
export function successDetails(base: ReturnType<typeof baseOf>, out: JobResult): JobDetails {
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

/** A failed job's details from its workflow's failure: its error, the script's traceback and progress. */
async function failedDetails(client: Client, info: Execution, memo: Partial<JobMemo>): Promise<JobDetails> {
  const base = baseOf(info, memo);
  const outside = endedFromOutside(info.status.name);
  let error = outside ?? 'Internal error';
  let traceback: string | null = null;
  let progress: ProgressSnapshot | null = null;
  let retry = 0;
  if (!outside) {
    try {
      await client.workflow.getHandle(info.workflowId).result();
    } catch (err) {
      if (err instanceof WorkflowFailedError && err.cause instanceof TemporalFailure) {
        const cause = err.cause;
        const type = cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
        const details = (cause instanceof ApplicationFailure ? cause.details?.[0] : undefined) as FailureDetails | undefined;
        error = upstreamError(type, cause.message);
        traceback = details?.stack ?? cause.message ?? null;
        progress = details?.progress ?? null;
        retry = Math.max(0, (details?.attempt ?? 1) - 1);
      }
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

/**
 * A job whose workflow still runs, from its description: its script's attempt and heartbeat
 * progress while runScript is pending; before the script (preparing the share: PENDING) or after
 * it (archiving: RUNNING, at 100 % once it succeeded), the phase the workflow published.
 */
function runningDetails(client: Client, desc: WorkflowExecutionDescription): JobDetails {
  const base = baseOf(desc, (desc.memo ?? {}) as Partial<JobMemo>);
  const pending = desc.raw.pendingActivities?.find((a) => a.activityType?.name === 'runScript');
  const attempt = pending?.attempt ?? 1;
  const payloads = pending?.heartbeatDetails?.payloads;
  const progress =
    payloads && payloads.length > 0
      ? (fromPayloadsAtIndex(client.options.loadedDataConverter.payloadConverter, 0, payloads) as ProgressSnapshot | undefined)
      : undefined;
  const phase = desc.typedSearchAttributes.get(JOB_STATUS);
  let status: JobStatus;
  if (!pending) status = runningJobStatus(phase);
  else if (attempt > 1) status = 'RETRY';
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
export async function taskMeta(jobs: JobSource, id: string) {
  const { client } = jobs;
  const desc = await describeJob(jobs, id);
  if (desc === null) {
    // upstream answers PENDING for any id
    return { status: 'PENDING', result: null, traceback: null, children: [] as string[], parent_id: null, task_id: id, date_done: null };
  }
  const details = await detailsOf(client, desc);
  const children: string[] = [];
  for await (const wf of client.workflow.list({ query: `ParentWorkflowId = "${id}"` })) children.push(wf.workflowId);
  const failed = details.status === 'FAILURE';
  return {
    status: details.status,
    result: details.status === 'SUCCESS' ? details.result : failed ? details.error : null,
    traceback: failed ? details.result : null,
    children,
    parent_id: ((desc.memo ?? {}) as Partial<JobMemo>).parentId ?? null,
    task_id: id,
    date_done: details.time_info.stopped,
  };
}

/** What a job was started with (its workflow's input, from the first event of its history), or null once Temporal has forgotten it. */
export async function readJobInput(client: Client, jobId: string): Promise<JobInput | null> {
  const page = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId: jobId },
    maximumPageSize: 1,
  });
  const payload = page.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  return payload ? (client.options.loadedDataConverter.payloadConverter.fromPayload(payload) as JobInput) : null;
}

/** GET /jobs/{id}/input (beyond upstream): what a user submitted, in the API's words (no share paths). */
export interface SubmittedJob {
  process: string;
  /** The uploaded script's name, or the process's script file. */
  script: string;
  entrypoint: string;
  params: unknown;
  name: string | null;
  /** The uploaded model or archive's name, or null. */
  file: string | null;
  root_file: string | null;
  queue: string;
  time_limit: number;
  compute_only: boolean;
  time_request: string;
  parent_id: string | null;
}

export function submittedJob(input: JobInput): SubmittedJob {
  const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);
  return {
    process: input.process,
    script: base(input.script),
    entrypoint: input.entrypoint,
    params: input.params,
    name: input.name,
    file: input.data === null ? null : base(input.data),
    root_file: input.rootFile,
    queue: input.queue,
    time_limit: input.timeLimitSeconds,
    compute_only: input.computeOnly,
    time_request: input.timeRequest,
    parent_id: input.parentId ?? null,
  };
}
