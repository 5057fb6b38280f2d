import {
  ActivityCancellationType,
  ActivityFailure,
  CancelledFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  TimeoutFailure,
  upsertMemo,
  upsertSearchAttributes,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { ScriptActivities, ShareActivities } from '../activities';
import { archiveKind } from '../shared/archive-kind';
import { finalRecord, ownsShare } from '../shared/final-state';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../shared/errors';
import { SHARE_QUEUE, taskQueueName } from '../shared/queues';
import { upstreamError, type FailureDetails } from '../shared/job-status';
import { JOB_STATUS } from '../shared/search-attributes';
import type { FinalState, JobInput, JobResult, JobStatus, JobStatusView, PreparedShare, ProgressSnapshot, PublishedFailure } from '../shared/types';
import { startCanvas, startTask, taskIds, validateCanvas } from './children';
import { follows, madeFor } from './path-version';
import { FINAL_STATUS_UNPUBLISHED } from '../shared/path-version';
import { scriptRunningSignal, spawnUpdate, statusQuery } from '../shared/definitions';

export { scriptRunningSignal, spawnUpdate, statusQuery };

// Timeouts and retries of each activity, never Temporal's defaults.
/** Creating directories and unpacking an upload (large archives take a while). */
export const PREPARE_SHARE_TIMEOUT = '30 minutes';
export const ZIP_OUTPUTS_TIMEOUT = '60 minutes';
/**
 * Share activities heartbeat every 5 s on a timer, however long an entry takes; one silent for
 * this long is on a lost worker (a zip cut short by a killed worker was retried only after 2 min
 * with the former timeout).
 */
export const SHARE_HEARTBEAT_TIMEOUT = '30 seconds';
export const SHARE_RETRY = { maximumAttempts: 3, initialInterval: '1 second', nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] };
/**
 * runScript kills a script at its time limit itself; Temporal's start-to-close timeout, this much
 * later, only catches a worker that died without a word.
 */
export const RUN_SCRIPT_TIMEOUT_MARGIN_SECONDS = 15;
/** runScript heartbeats every 0.25 s while its script runs; 10 s of silence means its worker is gone. */
export const RUN_SCRIPT_HEARTBEAT_TIMEOUT = '10 seconds';
/** Upstream: a script's own exception is final; a crashed or killed process (or a lost worker) runs once more. */
export const RUN_SCRIPT_RETRIES = 1;
/** recordState as a local activity: a small file and a counter, on the workflow's own worker. */
export const RECORD_STATE_LOCAL_TIMEOUT = '1 minute';
/**
 * The job's path since issue #11: prepareShare runs only for an archive to unpack (runScript makes
 * the directories and checks the input itself), zipOutputs only when the script wrote outputs, and
 * runScript records a success itself (state.json, the job metrics); a failure or a cancel is
 * recorded by recordState as a local activity — a trivial job is two workflow tasks and one
 * activity, as Temporal's floor. Histories recorded before it replay the older path.
 */
export const FEWER_STEPS_PATCH = 'fewer-steps-v1';
/** Since fewer-steps-v1, a script shows as RUNNING in visibility once it has run this long (runScript signals it). */
export const ANNOUNCE_RUNNING_AFTER_MS = 1000;
/**
 * Since this patch, a job publishes all GET /jobs shows of it: RUNNING while a successful script's
 * outputs are zipped (a script done within ANNOUNCE_RUNNING_AFTER_MS read PENDING until the zip
 * ended), and as a failed job ends, its error text and progress in its memo (key `failure`). A
 * page of GET /jobs is then one visibility call, with no read of each job.
 */
export const PUBLISHED_STATE_PATCH = 'published-state-v1';
/** The longest error text a failed job publishes in its memo. */
export const MAX_PUBLISHED_ERROR = 1000;
/** Since this patch, a script cut short by its worker's shutdown runs again, not counted as an attempt. */
export const SHUTDOWN_RERUNS_PATCH = 'shutdown-reruns-v1';
/** Shutdowns a job outlives; past them (a worker stopped again and again), the job fails. */
export const MAX_SHUTDOWN_RERUNS = 20;
export const RUN_SCRIPT_RETRY = {
  maximumAttempts: 1 + RUN_SCRIPT_RETRIES,
  initialInterval: '1 second',
  backoffCoefficient: 1,
  nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
};

/** The job workflow: prepare the share, run the script, archive its outputs. Workflow id = job id. */
export async function pixyzJob(job: JobInput): Promise<JobResult> {
  // A worker's warm-up runs this code too, but is not a job: neither published, recorded nor counted.
  const isJob = !job.warmUp;
  const view: JobStatusView = { status: 'PENDING', phase: 'queued', children: { started: 0, done: 0, failed: 0 } };
  setHandler(statusQuery, () => ({ ...view, children: { ...view.children } }));
  // The status in visibility (search attribute PixyzStatus) may lag the query's: RUNNING is
  // published only once the script has run a while (see scriptRunningSignal). A job's end is
  // Temporal's ExecutionStatus: since path version 3 it is not published again as PixyzStatus.
  let published: JobStatus = 'PENDING';
  const publish = (status: JobStatus) => {
    if (published === status || !isJob) return; // a warm-up has no status to filter on
    published = status;
    upsertSearchAttributes([{ key: JOB_STATUS, value: status }]);
  };
  const publishesEnd = !madeFor(FINAL_STATUS_UNPUBLISHED, job.pathVersion);
  const setStatus = (status: JobStatus, phase: JobStatusView['phase'], visible = true) => {
    view.phase = phase;
    view.status = status;
    if (visible) publish(status);
  };
  setHandler(scriptRunningSignal, () => {
    if (view.status === 'RUNNING') publish('RUNNING');
  });

  const shareOptions: ActivityOptions = {
    taskQueue: taskQueueName(job.taskQueuePrefix, SHARE_QUEUE),
    startToCloseTimeout: PREPARE_SHARE_TIMEOUT,
    heartbeatTimeout: SHARE_HEARTBEAT_TIMEOUT,
    retry: SHARE_RETRY,
  };
  const { prepareShare, recordState: recordStateActivity } = proxyActivities<ShareActivities>(shareOptions);
  const { recordState: recordStateLocal, outputsEmpty } = proxyLocalActivities<ShareActivities>({
    startToCloseTimeout: RECORD_STATE_LOCAL_TIMEOUT,
    retry: SHARE_RETRY,
  });
  const { zipOutputs } = proxyActivities<ShareActivities>({ ...shareOptions, startToCloseTimeout: ZIP_OUTPUTS_TIMEOUT });
  const { runScript } = proxyActivities<ScriptActivities>({
    taskQueue: taskQueueName(job.taskQueuePrefix, job.queue),
    startToCloseTimeout: `${job.timeLimitSeconds + RUN_SCRIPT_TIMEOUT_MARGIN_SECONDS} seconds`,
    heartbeatTimeout: RUN_SCRIPT_HEARTBEAT_TIMEOUT,
    // The workflow ends only once the script's process group is gone.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { ...RUN_SCRIPT_RETRY, maximumAttempts: 1 + (job.retries ?? RUN_SCRIPT_RETRIES) },
  });

  // A sub-task from pc.clone() works in its parent's directory: the parent prepares and zips it.
  const ownShare = ownsShare(job);
  let prepared: PreparedShare = { inputFile: job.inputFile ?? null };
  const since = (patchId: string) => follows(patchId, job.pathVersion);
  const fewerSteps = since(FEWER_STEPS_PATCH);
  const recordState = fewerSteps ? recordStateLocal : recordStateActivity;
  // Only an archive needs a step of its own before the script: unpacking may take minutes.
  const needsPrepare = ownShare && (!fewerSteps || (job.data !== null && archiveKind(job.data) !== null));

  // Sub-tasks: every child is awaited before the job ends; a cancelled job cancels them.
  const children: Promise<unknown>[] = [];
  // The counts travel in the memo too, so the API shows them without querying the workflow.
  const publishChildren = () => upsertMemo({ children: { ...view.children } });
  const track = (result: Promise<unknown>, tasks: number) => {
    view.children.started += tasks;
    publishChildren();
    children.push(
      result.then(
        () => {
          view.children.done += tasks;
          publishChildren();
        },
        () => {
          view.children.done += tasks;
          view.children.failed += tasks;
          publishChildren();
        },
      ),
    );
  };
  setHandler(
    spawnUpdate,
    async ({ canvas }) => {
      const parent: JobInput = { ...job, inputFile: prepared.inputFile };
      const tasks = taskIds(canvas);
      const child =
        canvas.kind === 'task'
          ? await startTask(parent, canvas, canvas.params, prepared.inputFile)
          : await startCanvas(parent, canvas);
      track(child.result(), tasks.length);
      return { id: canvas.id, tasks };
    },
    {
      validator: ({ canvas }) => {
        if (view.phase !== 'running') throw new Error(`sub-tasks are spawned by a running script; this job is ${view.phase}`);
        validateCanvas(canvas, view.children.started - view.children.done);
      },
    },
  );
  const settleChildren = async () => {
    await Promise.all(children);
    await condition(allHandlersFinished);
  };

  const requested = job.timeRequest;
  try {
    if (needsPrepare) {
      view.phase = 'preparing';
      prepared = await prepareShare({ jobId: job.jobId, data: job.data, rootFile: job.rootFile });
    } else if (ownShare) {
      prepared = { inputFile: job.data };
    }
    setStatus('RUNNING', 'running', !fewerSteps);
    let run;
    try {
      const runInput = {
        job,
        inputFile: prepared.inputFile,
        ...(fewerSteps && ownShare ? { ownsShare: true } : {}),
        ...(fewerSteps ? { announceRunningAfterMs: ANNOUNCE_RUNNING_AFTER_MS, recordsSuccess: isJob } : {}),
      };
      for (let reruns = 0; ; reruns++) {
        try {
          run = await runScript(runInput);
          break;
        } catch (err) {
          // A script cut short by its worker's shutdown runs again on the next worker: a deploy
          // spends none of the job's retries. (The patch check sits where the old path ends.)
          if (reruns < MAX_SHUTDOWN_RERUNS && stoppedWithItsWorker(err) && since(SHUTDOWN_RERUNS_PATCH)) continue;
          throw err;
        }
      }
      view.phase = 'archiving';
      await settleChildren();
    } catch (err) {
      try {
        await settleChildren();
      } catch (settleErr) {
        // Cancelled, the wait itself fails at once: the script's own cancellation (it says how far
        // the script got) is the one to report.
        if (!(isCancellation(settleErr) && isCancellation(err))) throw settleErr;
      }
      // A failed script's partial outputs can still be downloaded as a zip, as upstream allows.
      if (ownShare && !isCancellation(err)) {
        // The script failed: no "100 %" while its outputs are zipped. Published before the zip only
        // since fewer-steps-v1: the release before e5b9dfe published it after, and its histories
        // must replay (those recorded between e5b9dfe and fewer-steps-v1 cannot be both; see
        // test/fixtures/histories/README.md).
        setStatus('FAILURE', 'archiving', fewerSteps);
        await zipOutputs({ jobId: job.jobId }).catch((zipErr) => {
          if (isCancellation(zipErr)) throw zipErr; // a cancel during the zip still reads REVOKED
        });
      }
      throw err;
    }
    let archive: string | null = null;
    // Sub-tasks may have written outputs after the script returned: look again now that they are done.
    const nothingToZip = run.outputsEmpty || (run.spawned === true && (await outputsEmpty({ jobId: job.jobId })));
    if (ownShare && !nothingToZip) {
      if (isJob && since(PUBLISHED_STATE_PATCH)) publish('RUNNING');
      archive = (await zipOutputs({ jobId: job.jobId })).archive;
    }
    const result: JobResult = {
      result: run.result,
      retry: run.attempt - 1,
      progress: run.progress,
      timeInfo: { request: requested, started: run.progress.started, stopped: run.progress.stopped },
      archive,
      children: { ...view.children },
    };
    // Since fewer-steps-v1, runScript records a success itself when nothing followed the script.
    if (!run.recorded) await record({ status: 'SUCCESS', result: result.result, error: null, progress: result.progress, retry: result.retry });
    setStatus('SUCCESS', 'done', publishesEnd);
    return result;
  } catch (err) {
    if (isCancellation(err)) {
      // With how far its script got, as the script's activity said when it was cancelled.
      await CancellationScope.nonCancellable(() => record({ status: 'REVOKED', result: null, error: null, progress: cancelledProgress(err), retry: 0 }));
      setStatus('REVOKED', 'done', publishesEnd);
      throw err;
    }
    const failure = jobFailure(err);
    const details = failure.details?.[0] as FailureDetails | undefined;
    await record({
      status: 'FAILURE',
      result: null,
      error: { type: failure.type ?? ErrorType.InternalError, message: failure.message, stack: details?.stack ?? null },
      progress: details?.progress ?? null,
      retry: Math.max(0, (details?.attempt ?? 1) - 1),
    });
    if (isJob && since(PUBLISHED_STATE_PATCH)) {
      // Cut: a memo is small (Temporal refuses large ones); the job's details keep the whole text.
      const error = upstreamError(failure.type ?? undefined, failure.message);
      const published: PublishedFailure = { error: error.length > MAX_PUBLISHED_ERROR ? `${error.slice(0, MAX_PUBLISHED_ERROR - 1)}…` : error, progress: details?.progress?.progress ?? null };
      upsertMemo({ failure: published });
    }
    setStatus('FAILURE', 'done', publishesEnd);
    throw failure;
  }

  /** Counts the job in the metrics, and writes state.json in its directory: the API's answer once Temporal has forgotten it. */
  async function record(state: Omit<FinalState, 'jobId' | 'name' | 'timeInfo'>): Promise<void> {
    if (!isJob) return;
    await recordState(finalRecord(job, state, new Date().toISOString())).catch((e) => {
      if (isCancellation(e)) throw e; // only a record lost to a broken share is tolerated
    });
  }
}

/** runScript failed because its worker was stopping (deploy, SIGTERM), not because of its script. */
function stoppedWithItsWorker(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === ErrorType.WorkerShutdown;
}

/** The job's failure with the script's own type and message on top, not "Activity task failed". */
function jobFailure(err: unknown): ApplicationFailure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    return ApplicationFailure.create({
      type: cause.type ?? ErrorType.InternalError,
      message: cause.message,
      details: cause.details as unknown[] | undefined,
      nonRetryable: true,
      cause: err as Error,
    });
  }
  if (cause instanceof TimeoutFailure) {
    const activity = err instanceof ActivityFailure ? err.activityType : undefined;
    if (activity === 'runScript' && cause.timeoutType === 'HEARTBEAT') {
      // Heartbeats come from the worker, not the script: the worker (or its host) was lost.
      return ApplicationFailure.create({
        type: ErrorType.ScriptExited,
        message: 'Task process exited with error: its worker stopped answering',
        nonRetryable: true,
        cause,
      });
    }
    if (activity === 'runScript') {
      return ApplicationFailure.create({ type: ErrorType.ScriptTimeout, message: 'Task process timeout', nonRetryable: true, cause });
    }
    return ApplicationFailure.create({
      type: ErrorType.InternalError,
      message: `${activity ?? 'a step'} of the job timed out (${cause.timeoutType})`,
      nonRetryable: true,
      cause,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return ApplicationFailure.create({ type: ErrorType.InternalError, message, nonRetryable: true, cause: err as Error });
}

/** The progress a cancelled script's activity reported as it ended (its failure's detail), if any. */
function cancelledProgress(err: unknown): ProgressSnapshot | null {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const detail = cause instanceof CancelledFailure ? cause.details?.[0] : undefined;
  return detail && typeof detail === 'object' && 'steps' in detail ? (detail as ProgressSnapshot) : null;
}
