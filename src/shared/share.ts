import path from 'node:path';

// The share layout: {SHARE}/{jobId}/inputs, outputs, archives, logs. Paths in payloads are
// relative to SHARE_PATH so that hosts may mount the share at different places.

export const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isJobId(id: string): boolean {
  return UUID_PATTERN.test(id);
}

export interface JobPaths {
  dir: string;
  inputs: string;
  outputs: string;
  archives: string;
  logs: string;
  archive: string;
  /** The job's final state, written when it ends. */
  state: string;
}

export function jobPaths(sharePath: string, jobId: string): JobPaths {
  if (!isJobId(jobId)) throw new Error(`invalid job id '${jobId}'`);
  const dir = path.join(sharePath, jobId);
  return {
    dir,
    inputs: path.join(dir, 'inputs'),
    outputs: path.join(dir, 'outputs'),
    archives: path.join(dir, 'archives'),
    logs: path.join(dir, 'logs'),
    archive: path.join(dir, 'archives', `${jobId}.zip`),
    state: path.join(dir, 'state.json'),
  };
}

/**
 * A job's script log. A sub-task from pc.clone() works in its parent's directory (`shareOf`) and
 * keeps a log of its own there.
 */
export function logFile(sharePath: string, jobId: string, shareOf?: string | null): string {
  return path.join(jobPaths(sharePath, shareOf ?? jobId).logs, `${jobId}.log`);
}

/** Resolves a share-relative path from a payload; refuses anything that leaves the share. */
export function fromShare(sharePath: string, relative: string): string {
  const abs = path.resolve(sharePath, relative);
  if (!isInside(sharePath, abs)) {
    throw new Error(`path '${relative}' is outside the share`);
  }
  return abs;
}

export function toShare(sharePath: string, absolute: string): string {
  return path.relative(sharePath, absolute).split(path.sep).join('/');
}

/** True when `child` is `parent` or lies inside it (both already resolved). */
export function isInside(parent: string, child: string): boolean {
  return child === parent || child.startsWith(parent + path.sep);
}

/**
 * Where a file is written before it is renamed to `target` (saveModel writes whole or not at all):
 * beside it, hidden, named after the writing process.
 */
export function partialFile(target: string, pid = process.pid): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${pid}.partial`);
}

/** Whether a file name is one of partialFile's: left behind only by a process that was killed. */
export function isPartialFile(name: string): boolean {
  return /^\..+\.\d+\.partial$/.test(name);
}

/** A zip with no entries: its end-of-central-directory record alone (the archive of a job that wrote nothing). */
export const EMPTY_ZIP: Buffer = Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)]);
