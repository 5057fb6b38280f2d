// What a job records when it ends (state.json and the job metrics), built the same way by the
// workflow (failures, cancels) and by runScript (a success, since fewer-steps-v1). Pure: the
// workflow sandbox imports it.
import type { FinalState, JobInput, RecordStateInput } from './types';

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
    process: metricsProcess(job),
    write: ownsShare(job),
  };
}

/**
 * The name a job is counted under in the job metrics: its process (or script file), and for a
 * sub-task also its entrypoint (`thumbnail_chained:screenshot`), as the Temporal UI lists it, so
 * that a job's steps are not counted as more runs of the job itself.
 */
export function metricsProcess(job: JobInput): string {
  const base = job.process === 'custom' ? (job.script.split('/').pop() ?? 'custom') : job.process;
  return job.parentId ? `${base}:${job.entrypoint}` : base;
}
