// The job workflow's query and update, importable by clients and activities without the workflow code.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { JobStatusView, SpawnInput, SpawnOutput } from '../shared/types';

export const statusQuery = defineQuery<JobStatusView>('status');
/** Sent by the job's own runScript activity when the script calls pc.execute() or a canvas helper. */
export const spawnUpdate = defineUpdate<SpawnOutput, [SpawnInput]>('spawn');
