// A job's status, in one place: what a workflow's execution status and its published phase mean
// to a user, the visibility filter of each status, and the details a failed job carries. Pure:
// the workflow sandbox, the worker, the API and the SDK import it.
import { ErrorType } from './errors';
import type { ProgressSnapshot } from './types';

/** The statuses a job ends in. */
export const FINISHED_STATUSES = ['SUCCESS', 'FAILURE', 'REVOKED'] as const;
export type FinishedStatus = (typeof FINISHED_STATUSES)[number];

export function isFinished(status: string): status is FinishedStatus {
  return (FINISHED_STATUSES as readonly string[]).includes(status);
}

/**
 * What a closed workflow means for its job, from its execution status in either of Temporal's
 * spellings (`COMPLETED` in a description, `Completed` in the visibility store); null while it runs.
 */
export function closedJobStatus(executionStatus: string): FinishedStatus | null {
  switch (executionStatus.toUpperCase().replace(/_/g, '')) {
    case 'COMPLETED':
      return 'SUCCESS';
    case 'FAILED':
    case 'TERMINATED':
    case 'TIMEDOUT':
      return 'FAILURE';
    case 'CANCELED':
    case 'CANCELLED':
      return 'REVOKED';
    default:
      return null;
  }
}

/**
 * The phase a running job publishes (search attribute PixyzStatus): PENDING until its script has
 * run a while, RUNNING from then on, FAILURE while a failed script's outputs are zipped. What a
 * user sees of it without asking the workflow's activities: PENDING or RUNNING.
 */
export function runningJobStatus(phase: string | undefined): 'PENDING' | 'RUNNING' {
  return phase === 'RUNNING' || phase === 'FAILURE' ? 'RUNNING' : 'PENDING';
}

/** The statuses GET /jobs shows and filters on. */
export const LISTED_STATUSES = ['PENDING', 'RUNNING', ...FINISHED_STATUSES] as const;
export type ListedStatus = (typeof LISTED_STATUSES)[number];

/**
 * The visibility query of each status GET /jobs filters on. A terminated or timed-out workflow
 * cannot publish its phase: finished statuses are read from the execution status.
 */
export const VISIBILITY_FILTERS: Record<ListedStatus, string> = {
  PENDING: `ExecutionStatus = "Running" AND PixyzStatus = "PENDING"`,
  RUNNING: `ExecutionStatus = "Running" AND PixyzStatus IN ("RUNNING", "FAILURE")`,
  SUCCESS: `ExecutionStatus = "Completed"`,
  FAILURE: `ExecutionStatus IN ("Failed", "Terminated", "TimedOut")`,
  REVOKED: `ExecutionStatus = "Canceled"`,
};

/** The details of a script's failure (the first detail of runScript's ApplicationFailure, and of the job's). */
export interface FailureDetails {
  errorName?: string;
  stack?: string | null;
  progress?: ProgressSnapshot | null;
  /** The script attempt that failed (1 = the first). */
  attempt?: number;
  /** The end of the job's log, for a process that died without a word. */
  logTail?: string;
}

/** Upstream's error text of a failed job, by our failure types. */
export function upstreamError(type: string | undefined, message: string): string {
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

/** The error text of a job whose workflow was ended from outside (it had no say). */
export function endedFromOutside(executionStatus: string): string | null {
  const s = executionStatus.toUpperCase().replace(/_/g, '');
  return s === 'TERMINATED' ? 'Job terminated' : s === 'TIMEDOUT' ? 'Job timed out' : null;
}
