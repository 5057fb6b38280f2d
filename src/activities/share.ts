import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import archiver from 'archiver';
import { archiveKind, ArchiveRefusal, extractArchive, findRootFile, type ExtractLimits } from '../shared/archive';
import { ErrorType } from '../shared/errors';
import { countFinishedJob } from '../shared/job-metrics';

export type { ExtractLimits } from '../shared/archive';
import { fromShare, isPartialFile, jobPaths, logFile, toShare } from '../shared/share';
import { parseUpstreamTime } from '../shared/time';
import type { PreparedShare, PrepareShareInput, RecordStateInput, ZipOutputsInput, ZipOutputsOutput } from '../shared/types';

export interface ShareActivityDeps {
  sharePath: string;
  limits: ExtractLimits;
}

const HEARTBEAT_EVERY_MS = 5000;
const DIR_MODE = 0o755;
const FILE_MODE = 0o644;
/** Where an uploaded archive is unpacked, inside the job's inputs/. */
export const EXTRACT_DIR = 'extracted';

function invalid(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type);
}

/** The file to load in an unpacked archive (see findRootFile), refused as a non-retryable failure. */
export async function resolveRootFile(dir: string, rootFile: string | null, archiveName: string): Promise<string> {
  try {
    return await findRootFile(dir, rootFile, archiveName);
  } catch (err) {
    if (err instanceof ArchiveRefusal) throw invalid(err.type, err.message);
    throw err;
  }
}

/** Runs `work` with a heartbeat every few seconds: one large entry may take minutes. */
async function whileHeartbeating<T>(work: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

// The bookkeeping of every job (its directories, an empty outputs/ check, state.json) is a few
// small file-system calls: made synchronously, each costs ~0.05 ms here, against ~0.3 ms of CPU
// and wall time through libuv's thread pool. Uploads, archives and zips stay asynchronous.

/**
 * What prepareShare does for a job without an archive to unpack, done by runScript itself (one
 * step less): the job's directories, and its input file checked.
 */
export function ensureJobDirectories(sharePath: string, jobId: string, data: string | null): void {
  const paths = jobPaths(sharePath, jobId);
  // archives/ is made by zipOutputs, when there is something to zip.
  for (const dir of [paths.inputs, paths.outputs, paths.logs]) fs.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  if (data !== null && !fs.existsSync(fromShare(sharePath, data))) {
    throw invalid(ErrorType.PixyzFileNotFound, `the input file '${path.basename(data)}' is missing`);
  }
}

/**
 * True when the script left outputs/ empty: then nothing is zipped, and the API answers the
 * job's archive with an empty zip. False when there are outputs, or outputs/ is not a plain
 * directory (zipOutputs then decides).
 */
export function outputsAreEmpty(sharePath: string, jobId: string): boolean {
  const { outputs } = jobPaths(sharePath, jobId);
  let dir: fs.Dir;
  try {
    if (!fs.lstatSync(outputs).isDirectory()) return false;
    dir = fs.opendirSync(outputs);
  } catch {
    return false;
  }
  try {
    // A killed attempt's partial file (saveModel's, see partialFile) is not an output.
    for (let entry = dir.readSync(); entry !== null; entry = dir.readSync()) if (!isPartialFile(entry.name)) return false;
    return true;
  } finally {
    dir.closeSync();
  }
}

/**
 * Counts an ended job in the job metrics (with `count`) and writes its state.json atomically (with
 * `write`): by the recordState activity, or by runScript when nothing follows a success.
 */
export function recordFinalState(sharePath: string, { state, process, write }: RecordStateInput, count: boolean): void {
  if (count) {
    const requested = parseUpstreamTime(state.timeInfo.request);
    const stopped = parseUpstreamTime(state.timeInfo.stopped);
    countFinishedJob(process, state.status, requested && stopped ? (stopped.getTime() - requested.getTime()) / 1000 : null);
  }
  if (!write) return;
  const paths = jobPaths(sharePath, state.jobId);
  fs.mkdirSync(paths.dir, { recursive: true, mode: DIR_MODE });
  const partial = `${paths.state}.partial`;
  fs.writeFileSync(partial, JSON.stringify(state, null, 2), { mode: FILE_MODE });
  fs.renameSync(partial, paths.state);
}

export function createShareActivities(deps: ShareActivityDeps) {
  const { sharePath } = deps;
  return {
    /** Creates the job's directories and unpacks an uploaded archive. Idempotent: safe to retry. */
    async prepareShare({ jobId, data, rootFile }: PrepareShareInput): Promise<PreparedShare> {
      const paths = jobPaths(sharePath, jobId);
      ensureJobDirectories(sharePath, jobId, data);
      await fsp.mkdir(paths.archives, { recursive: true, mode: DIR_MODE });
      if (data === null) return { inputFile: null };
      const file = fromShare(sharePath, data);
      if (!archiveKind(file)) return { inputFile: data };
      const dest = path.join(paths.inputs, EXTRACT_DIR);
      await fsp.rm(dest, { recursive: true, force: true }); // a retried attempt starts clean
      try {
        // A failed unpacking removes what it unpacked (extractArchive).
        await whileHeartbeating(() => extractArchive(file, dest, deps.limits));
      } catch (err) {
        if (err instanceof ArchiveRefusal) throw invalid(err.type, err.message);
        throw err;
      }
      let root: string;
      try {
        root = await resolveRootFile(dest, rootFile, path.basename(file));
      } catch (err) {
        // The job fails before its script: nothing will read what was unpacked.
        await fsp.rm(dest, { recursive: true, force: true });
        throw err;
      }
      if (!rootFile) {
        // The job's log says which file was taken, so that a zip of several models is no surprise.
        await fsp.appendFile(
          logFile(sharePath, jobId),
          `--- no root_file: the input file is '${path.relative(dest, root).split(path.sep).join('/')}', the first model file in '${path.basename(file)}'\n`,
          { mode: FILE_MODE },
        );
      }
      return { inputFile: toShare(sharePath, root) };
    },

    /** Counts the ended job in the job metrics and writes its final state to state.json, atomically. */
    async recordState(input: RecordStateInput): Promise<void> {
      // Only the first attempt counts: a retried write must not count the job twice.
      recordFinalState(sharePath, input, Context.current().info.attempt === 1);
    },

    /** Whether the job's outputs/ is empty (nothing to zip): a local activity, after its sub-tasks ended. */
    async outputsEmpty({ jobId }: ZipOutputsInput): Promise<boolean> {
      return outputsAreEmpty(sharePath, jobId);
    },

    /** Writes archives/{jobId}.zip from outputs/, atomically (a reader never sees half a zip). */
    async zipOutputs({ jobId }: ZipOutputsInput): Promise<ZipOutputsOutput> {
      const paths = jobPaths(sharePath, jobId);
      await fsp.mkdir(paths.archives, { recursive: true, mode: DIR_MODE });
      await fsp.mkdir(paths.outputs, { recursive: true, mode: DIR_MODE });
      if ((await fsp.lstat(paths.outputs)).isSymbolicLink()) {
        // A script replaced outputs/ by a link: zipping it would pack whatever it points at.
        throw invalid(ErrorType.PixyzSecurityViolation, "the job's outputs/ was replaced by a link; nothing is archived");
      }
      const partial = `${paths.archive}.partial`;
      const archive = archiver('zip', { zlib: { level: 6 } });
      let entries = 0;
      archive.on('entry', (entry) => {
        if ((entry as { type?: string }).type === 'file') entries += 1;
      });
      // Partial files (a model being written when its process was killed) are never outputs.
      archive.directory(paths.outputs, false, (entry) => (isPartialFile(path.basename(entry.name)) ? false : entry));
      await whileHeartbeating(() =>
        Promise.all([pipeline(archive, fs.createWriteStream(partial, { mode: FILE_MODE })), archive.finalize()]),
      );
      await fsp.rename(partial, paths.archive);
      const bytes = (await fsp.stat(paths.archive)).size;
      return { archive: toShare(sharePath, paths.archive), entries, bytes };
    },
  };
}
