// What a job records when it ends (state.json and the job metrics), built the same way by the
// workflow (failures, cancels) and by runScript (a success, since fewer-steps-v1). Pure: the
// workflow sandbox imports it.
import type { FinalState, JobInput, RecordStateInput } from './types';
import { processLabel } from './search-attributes';

/** A job with a directory of its own: a clone works in its parent's, a compute-only job has none. */
export function ownsShare(job: JobInput): boolean {
  return !job.computeOnly && !job.shareOf;
}

export function finalRecord(job: JobInput, state: Omit<FinalState, 'jobId' | 'name' | 'timeInfo'>, now: string): RecordStateInput {
  return {
    state: {
      ...state,
      jobId: job.jobId,
      name: job.name,
      timeInfo: { request: job.timeRequest, started: state.progress?.started ?? null, stopped: state.progress?.stopped ?? now },
    },
    // Counted under its label as lists show it (a sub-task's with its entrypoint: a job's steps are not more runs of the job).
    process: processLabel(job, !!job.parentId),
    write: ownsShare(job),
  };
}

