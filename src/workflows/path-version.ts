import { patched, workflowInfo } from '@temporalio/workflow';
import { JOB_PATH_VERSION } from '../shared/path-version';

/**
 * Whether this run takes the path that patch `patchId` introduced.
 *
 * A job made for path version 2 always does. Its first run records no marker; a replay still
 * asks for the marker, because a worker of the release before version 2 that ran part of the
 * job recorded one, and a recorded marker must be matched. Both branches emit the same
 * commands (a replay records nothing), so the branch on isReplaying is deterministic.
 * Older inputs (no version) decide by the marker, as before.
 */
export function follows(patchId: string, pathVersion: number | undefined): boolean {
  const stated = (pathVersion ?? 0) >= JOB_PATH_VERSION;
  if (stated && !workflowInfo().unsafe.isReplaying) return true;
  return patched(patchId) || stated;
}
