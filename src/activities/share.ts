import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import archiver from 'archiver';
import yauzl from 'yauzl';
import { ErrorType } from '../shared/errors';
import { fromShare, isInside, jobPaths, toShare } from '../shared/share';
import type { PreparedShare, PrepareShareInput, RecordStateInput, ZipOutputsInput, ZipOutputsOutput } from '../shared/types';

export interface ExtractLimits {
  maxBytes: number;
  maxEntries: number;
  /** Uncompressed / compressed size allowed once past RATIO_FLOOR_BYTES. */
  maxRatio: number;
}

export interface ShareActivityDeps {
  sharePath: string;
  limits: ExtractLimits;
}

const RATIO_FLOOR_BYTES = 64 * 1024 * 1024;
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

export function isArchive(file: string): boolean {
  return file.toLowerCase().endsWith('.zip');
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/** Unpacks a zip into `dest`, refusing entries that leave it, links, and bombs. */
export async function extractZip(zipFile: string, dest: string, limits: ExtractLimits): Promise<number> {
  const zipSize = (await fsp.stat(zipFile)).size;
  const allowedByRatio = Math.max(RATIO_FLOOR_BYTES, zipSize * limits.maxRatio);
  const name = path.basename(zipFile);
  let zip: yauzl.ZipFile;
  try {
    zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
      yauzl.open(zipFile, { lazyEntries: true, autoClose: true }, (err, z) => (err ? reject(err) : resolve(z))),
    );
  } catch (err) {
    throw invalid(ErrorType.InvalidInput, `'${name}' is not a readable zip archive: ${(err as Error).message}`);
  }
  await fsp.mkdir(dest, { recursive: true, mode: DIR_MODE });
  let entries = 0;
  let total = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', reject);
      zip.on('end', resolve);
      zip.on('entry', (entry: yauzl.Entry) => {
        void (async () => {
          entries += 1;
          if (entries > limits.maxEntries) {
            throw invalid(ErrorType.InvalidInput, `'${name}' has more than ${limits.maxEntries} entries (MAX_EXTRACT_ENTRIES)`);
          }
          const target = path.resolve(dest, entry.fileName);
          if (!isInside(dest, target) || path.isAbsolute(entry.fileName) || entry.fileName.includes('\\')) {
            throw invalid(ErrorType.PixyzSecurityViolation, `'${name}' holds an entry outside the archive: '${entry.fileName}'`);
          }
          if (((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK) {
            throw invalid(ErrorType.PixyzSecurityViolation, `'${name}' holds a symbolic link ('${entry.fileName}'); links are refused`);
          }
          if (entry.fileName.endsWith('/')) {
            await fsp.mkdir(target, { recursive: true, mode: DIR_MODE });
          } else {
            await fsp.mkdir(path.dirname(target), { recursive: true, mode: DIR_MODE });
            const input = await new Promise<NodeJS.ReadableStream>((res, rej) =>
              zip.openReadStream(entry, (err, s) => (err ? rej(err) : res(s))),
            );
            const counter = new Transform({
              transform(chunk: Buffer, _enc, done) {
                total += chunk.length;
                if (total > limits.maxBytes) {
                  done(invalid(ErrorType.InvalidInput, `'${name}' unpacks to more than ${limits.maxBytes} bytes (MAX_EXTRACT_BYTES)`));
                } else if (total > allowedByRatio) {
                  done(invalid(ErrorType.InvalidInput, `'${name}' unpacks to over ${limits.maxRatio}× its size (MAX_EXTRACT_RATIO): refused as a zip bomb`));
                } else done(null, chunk);
              },
            });
            await pipeline(input, counter, fs.createWriteStream(target, { mode: FILE_MODE }));
          }
          zip.readEntry();
        })().catch((err) => {
          zip.close();
          reject(err);
        });
      });
      zip.readEntry();
    });
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    const message = (err as Error).message;
    if (/invalid relative path|absolute path/i.test(message)) {
      throw invalid(ErrorType.PixyzSecurityViolation, `'${name}' holds an entry outside the archive: ${message}`);
    }
    throw invalid(ErrorType.InvalidInput, `'${name}' could not be unpacked: ${message}`);
  }
  return entries;
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
      if (!isArchive(file)) return { inputFile: data };
      const dest = path.join(paths.inputs, EXTRACT_DIR);
      await fsp.rm(dest, { recursive: true, force: true }); // a retried attempt starts clean
      await whileHeartbeating(() => extractZip(file, dest, deps.limits));
      const root = await resolveRootFile(dest, rootFile, path.basename(file));
      return { inputFile: toShare(sharePath, root) };
    },

    /** Writes the job's final state to state.json, atomically. */
    async recordState({ state }: RecordStateInput): Promise<void> {
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
