// The job workflow's query, update and signal: shared by the workflow, its activities and the API
// (definitions only: no workflow code runs where they are imported).
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { JobStatusView, SpawnInput, SpawnOutput } from './types';

export const statusQuery = defineQuery<JobStatusView>('status');
/** Sent by the job's own runScript activity when the script calls pc.execute() or a canvas helper. */
export const spawnUpdate = defineUpdate<SpawnOutput, [SpawnInput]>('spawn');
/**
 * Sent by runScript once its script has run for `announceRunningAfterMs`: the job then shows as
 * RUNNING in visibility (GET /jobs?status=RUNNING, the Temporal UI). A shorter job never needs it,
 * which spares each trivial job a visibility write.
 */
export const scriptRunningSignal = defineSignal('scriptRunning');
