/**
 * The job path a JobInput is made for (`JobInput.pathVersion`), stated by the API and by a job
 * for its sub-tasks. A job of version 2 or later takes every path that the patches up to it
 * introduced (fewer-steps-v1, published-state-v1, shutdown-reruns-v1, canvas-revokes-siblings-v1)
 * without recording their markers: with each marker Temporal's SDK upserts the
 * TemporalChangeVersion search attribute, one more visibility write per job, which cost the
 * embedded server about a tenth of its throughput (bench/results/2026-12-01-session4.md).
 *
 * A workflow change after this one is guarded by `patched()` as before (see the README).
 */
export const JOB_PATH_VERSION = 2;
