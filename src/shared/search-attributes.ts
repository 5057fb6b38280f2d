import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { JobInput, JobMemo } from './types';

// Registered on the server at start-up (see src/shared/temporal.ts); filter runs by them in the
// Temporal UI, e.g. `ExecutionStatus = "Running" AND PixyzStatus = "PENDING"`. PixyzStatus is a
// running job's phase: a finished job's status is Temporal's ExecutionStatus (src/shared/job-status.ts).
export const JOB_NAME = defineSearchAttributeKey('PixyzJobName', SearchAttributeType.KEYWORD);
export const JOB_PROCESS = defineSearchAttributeKey('PixyzProcess', SearchAttributeType.KEYWORD);
export const JOB_STATUS = defineSearchAttributeKey('PixyzStatus', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [JOB_NAME, JOB_PROCESS, JOB_STATUS] as const;

/**
 * What GET /jobs and the Temporal UI show of a job from its start: the memo (name, process,
 * submission time, and `memo`'s extra keys) and the search attributes (process label, PENDING,
 * name). One shape for a submitted job and a sub-task. No Node built-ins: the workflow uses it.
 */
export function jobVisibility(job: Pick<JobInput, 'process' | 'script' | 'entrypoint' | 'name' | 'timeRequest'>, memo: Partial<JobMemo>, subTask: boolean) {
  const own: JobMemo = { name: job.name, process: job.process, timeRequest: job.timeRequest };
  return {
    memo: { ...own, ...memo },
    typedSearchAttributes: [
      { key: JOB_PROCESS, value: processLabel(job, subTask) },
      { key: JOB_STATUS, value: 'PENDING' },
      ...(job.name ? [{ key: JOB_NAME, value: job.name }] : []),
    ],
  };
}

/** A job's process as lists show it: the process, or the uploaded script's file name; a sub-task adds `:<entrypoint>`. */
export function processLabel(job: Pick<JobInput, 'process' | 'script' | 'entrypoint'>, subTask: boolean): string {
  const base = job.process === 'custom' ? job.script.split('/').pop()! : job.process;
  return subTask ? `${base}:${job.entrypoint}` : base;
}
