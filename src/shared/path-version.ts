/**
 * The job path a JobInput is made for (`JobInput.pathVersion`), stated by the API and by a job
 * for its sub-tasks.
 *
 * - Version 2 (PATCHES_STATED): the job takes every path that the patches up to it introduced
 *   (fewer-steps-v1, published-state-v1, shutdown-reruns-v1, canvas-revokes-siblings-v1) without
 *   recording their markers: with each marker Temporal's SDK upserts the TemporalChangeVersion
 *   search attribute, one more visibility write per job, which cost the embedded server about a
 *   tenth of its throughput (bench/results/2026-12-01-session4.md).
 * - Version 3 (FINAL_STATUS_UNPUBLISHED): a job that ends does not upsert its final status
 *   (SUCCESS, FAILURE, REVOKED) into `PixyzStatus`: Temporal's own ExecutionStatus says it, and
 *   the API reads it from there. Again one visibility write less per job.
 *
 * A workflow change after these is guarded by a new version here, or by `patched()` (see the README).
 */
export const PATCHES_STATED = 2;
export const FINAL_STATUS_UNPUBLISHED = 3;
export const JOB_PATH_VERSION = FINAL_STATUS_UNPUBLISHED;
