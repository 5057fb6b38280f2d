import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import archiver from 'archiver';
import { archiveKind, ArchiveRefusal, extractArchive, type ExtractLimits } from '../shared/archive';
import { ErrorType } from '../shared/errors';
import { countFinishedJob } from '../shared/job-metrics';

export type { ExtractLimits } from '../shared/archive';
import { fromShare, isInside, jobPaths, toShare } from '../shared/share';
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

// Upstream's list of extensions it recognises as a model when it looks for an archive's root file.
const MODEL_EXTENSIONS = new Set(
  (
    'PXZ 3DS ACIS SAT SAB DWG DXF WIRE FBX IPT IAM NWD NWC RVT RFA RCP RCS VPB CATPART CATPRODUCT CATSHAPE CGR 3DXML ' +
    'ASM NEU PRT XAS XPR PVS PVZ CSB GLTF GLB GDS IFC IGS IGES JT OBJ X_B X_T P_T P_B XMT XMT_TXT XMT_BIN PDF PLMXML ' +
    'E57 PTS PTX PRC 3DM RVM SKP PAR PWD PSM SLDASM SLDPRT STP STEP STPZ STEPZ STPX STPXZ STL U3D USD USDZ USDA USDC ' +
    'VDA WRL VRML BREP BRP PLY OFF DAE 3MF'
  ).split(' '),
);

function invalid(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type);
}

/** All files under `dir`, sorted, relative to it with '/' separators. */
async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  const items = (await fsp.readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const item of items) {
    const rel = prefix ? `${prefix}/${item.name}` : item.name;
    if (item.isDirectory()) out.push(...(await listFiles(path.join(dir, item.name), rel)));
    else if (item.isFile()) out.push(rel);
  }
  return out;
}

/** The file to load in an unpacked archive: `rootFile` when given, else the first model file. */
export async function resolveRootFile(dir: string, rootFile: string | null, archiveName: string): Promise<string> {
  if (rootFile) {
    const target = path.resolve(dir, rootFile);
    if (rootFile.split(/[\\/]/).includes('..') || !isInside(dir, target)) {
      throw invalid(ErrorType.PixyzSecurityViolation, `root_file '${rootFile}' leaves the archive`);
    }
    if (!fs.existsSync(target) || !fs.statSync(target).isFile()) {
      throw invalid(ErrorType.PixyzFileNotFound, `root_file '${rootFile}' is not in '${archiveName}'`);
    }
    return target;
  }
  const files = await listFiles(dir);
  const model = files.find((f) => MODEL_EXTENSIONS.has(path.extname(f).slice(1).toUpperCase()));
  if (!model) {
    throw invalid(
      ErrorType.PixyzFileNotFound,
      `'${archiveName}' holds no file with a known 3D extension; name the file to load with config.root_file`,
    );
  }
  return path.join(dir, model);
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

export function createShareActivities(deps: ShareActivityDeps) {
  const { sharePath } = deps;
  return {
    /** Creates the job's directories and unpacks an uploaded archive. Idempotent: safe to retry. */
    async prepareShare({ jobId, data, rootFile }: PrepareShareInput): Promise<PreparedShare> {
      const paths = jobPaths(sharePath, jobId);
      for (const dir of [paths.inputs, paths.outputs, paths.archives, paths.logs]) {
        await fsp.mkdir(dir, { recursive: true, mode: DIR_MODE });
      }
      if (data === null) return { inputFile: null };
      const file = fromShare(sharePath, data);
      if (!fs.existsSync(file)) throw invalid(ErrorType.PixyzFileNotFound, `the input file '${path.basename(file)}' is missing`);
      if (!archiveKind(file)) return { inputFile: data };
      const dest = path.join(paths.inputs, EXTRACT_DIR);
      await fsp.rm(dest, { recursive: true, force: true }); // a retried attempt starts clean
      try {
        await whileHeartbeating(() => extractArchive(file, dest, deps.limits));
      } catch (err) {
        if (err instanceof ArchiveRefusal) throw invalid(err.type, err.message);
        throw err;
      }
      const root = await resolveRootFile(dest, rootFile, path.basename(file));
      return { inputFile: toShare(sharePath, root) };
    },

    /** Counts the ended job in the job metrics and writes its final state to state.json, atomically. */
    async recordState({ state, process, write }: RecordStateInput): Promise<void> {
      // Only the first attempt counts: a retried write must not count the job twice.
      if (Context.current().info.attempt === 1) {
        const requested = Date.parse(`${state.timeInfo.request}Z`);
        const stopped = Date.parse(state.timeInfo.stopped ?? '');
        countFinishedJob(process, state.status, Number.isNaN(requested) || Number.isNaN(stopped) ? null : (stopped - requested) / 1000);
      }
      if (!write) return;
      const paths = jobPaths(sharePath, state.jobId);
      await fsp.mkdir(paths.dir, { recursive: true, mode: DIR_MODE });
      const partial = `${paths.state}.partial`;
      await fsp.writeFile(partial, JSON.stringify(state, null, 2), { mode: FILE_MODE });
      await fsp.rename(partial, paths.state);
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
      archive.directory(paths.outputs, false);
      await whileHeartbeating(() =>
        Promise.all([pipeline(archive, fs.createWriteStream(partial, { mode: FILE_MODE })), archive.finalize()]),
      );
      await fsp.rename(partial, paths.archive);
      const bytes = (await fsp.stat(paths.archive)).size;
      return { archive: toShare(sharePath, paths.archive), entries, bytes };
    },
  };
}
