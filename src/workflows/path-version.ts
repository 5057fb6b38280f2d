import { patched, workflowInfo } from '@temporalio/workflow';
import { PATCHES_STATED } from '../shared/path-version';

/**
 * Whether this run takes the path that patch `patchId` introduced.
 *
 * A job made for path version 2 or later always does. Its first run records no marker; a replay still
 * asks for the marker, because a worker of the release before version 2 that ran part of the
 * job recorded one, and a recorded marker must be matched. Both branches emit the same
 * commands (a replay records nothing), so the branch on isReplaying is deterministic.
 * Older inputs (no version) decide by the marker, as before.
 */
export function follows(patchId: string, pathVersion: number | undefined): boolean {
  const stated = madeFor(PATCHES_STATED, pathVersion);
  if (stated && !workflowInfo().unsafe.isReplaying) return true;
  return patched(patchId) || stated;
}

/** Whether a job made for `pathVersion` runs the path that version introduced (no patch: the version is in its input). */
export function madeFor(version: number, pathVersion: number | undefined): boolean {
  return (pathVersion ?? 0) >= version;
}
