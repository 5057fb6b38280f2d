// Unpacking uploaded archives (.zip, .tar.gz) safely, with one set of rules for both formats:
// nothing lands outside the destination; links, devices and FIFOs are refused; duplicate and
// case-colliding names are refused; names that are not valid text are refused; total size, entry
// count and compression ratio are capped; a zip entry's data must match its CRC. An unpacking that
// fails part-way leaves nothing of what it unpacked.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import yauzl from 'yauzl';
import { archiveKind, type ArchiveKind } from './archive-kind';
import { ErrorType } from './errors';
import { isInside } from './share';

export interface ExtractLimits {
  maxBytes: number;
  maxEntries: number;
  /** Uncompressed / compressed size allowed once past RATIO_FLOOR_BYTES. */
  maxRatio: number;
}

/** An archive refused, with the rule it broke (an ErrorType) and the entry that broke it. */
export class ArchiveRefusal extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const RATIO_FLOOR_BYTES = 64 * 1024 * 1024;
const DIR_MODE = 0o755;
const FILE_MODE = 0o644;

export { archiveKind, type ArchiveKind };

type EntryType = 'file' | 'directory' | 'symlink' | 'link' | 'device' | 'fifo' | 'other';

/** The rules every entry meets, whatever the archive format. */
class EntryRules {
  private readonly seen = new Map<string, string>();
  private entries = 0;
  private total = 0;

  constructor(
    private readonly archive: string,
    private readonly dest: string,
    private readonly limits: ExtractLimits,
    private readonly allowedByRatio: number,
  ) {}

  /** Checks one entry's name and type; returns where it goes. */
  check(name: string, type: EntryType): string {
    const a = `'${this.archive}'`;
    this.entries += 1;
    if (this.entries > this.limits.maxEntries) {
      throw new ArchiveRefusal(ErrorType.InvalidInput, `${a} has more than ${this.limits.maxEntries} entries (MAX_EXTRACT_ENTRIES)`);
    }
    if (name.includes('\uFFFD') || name.includes('\0')) {
      throw new ArchiveRefusal(ErrorType.InvalidInput, `${a} holds an entry whose name is not valid text: '${name.replace(/\0/g, '\\0')}'`);
    }
    if (path.isAbsolute(name) || name.includes('\\') || /^[A-Za-z]:/.test(name) || name.split('/').includes('..')) {
      throw new ArchiveRefusal(ErrorType.PixyzSecurityViolation, `${a} holds an entry outside the archive: '${name}'`);
    }
    const target = path.resolve(this.dest, name);
    if (!isInside(this.dest, target)) {
      throw new ArchiveRefusal(ErrorType.PixyzSecurityViolation, `${a} holds an entry outside the archive: '${name}'`);
    }
    if (type === 'symlink' || type === 'link') {
      throw new ArchiveRefusal(ErrorType.PixyzSecurityViolation, `${a} holds a ${type === 'link' ? 'hard' : 'symbolic'} link ('${name}'); links are refused`);
    }
    if (type !== 'file' && type !== 'directory') {
      throw new ArchiveRefusal(ErrorType.PixyzSecurityViolation, `${a} holds a ${type} ('${name}'); only files and directories are accepted`);
    }
    const key = target.toLowerCase();
    const earlier = this.seen.get(key);
    if (earlier !== undefined && type === 'file') {
      throw new ArchiveRefusal(
        ErrorType.InvalidInput,
        earlier === name ? `${a} holds '${name}' twice` : `${a} holds both '${earlier}' and '${name}', which differ only in case`,
      );
    }
    this.seen.set(key, name);
    return target;
  }

  /** Counts bytes as they are written, refusing a bomb as soon as it shows. */
  counter(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        this.total += chunk.length;
        const a = `'${this.archive}'`;
        if (this.total > this.limits.maxBytes) {
          done(new ArchiveRefusal(ErrorType.InvalidInput, `${a} unpacks to more than ${this.limits.maxBytes} bytes (MAX_EXTRACT_BYTES)`));
        } else if (this.total > this.allowedByRatio) {
          done(new ArchiveRefusal(ErrorType.InvalidInput, `${a} unpacks to over ${this.limits.maxRatio}× its size (MAX_EXTRACT_RATIO): refused as a zip bomb`));
        } else done(null, chunk);
      },
    });
  }

  get count(): number {
    return this.entries;
  }
}

const S_IFMT = 0o170000;
const ZIP_TYPES: Record<number, EntryType> = { 0o120000: 'symlink', 0o020000: 'device', 0o060000: 'device', 0o010000: 'fifo', 0o140000: 'other' };

function zipEntryType(entry: yauzl.Entry): EntryType {
  const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
  return ZIP_TYPES[mode] ?? (entry.fileName.endsWith('/') ? 'directory' : 'file');
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  // Names are checked by our rules, with our messages: yauzl's own check is off.
  return new Promise((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: true, strictFileNames: false, validateEntrySizes: true }, (err, z) =>
      err ? reject(new ArchiveRefusal(ErrorType.InvalidInput, `'${path.basename(file)}' is not a readable zip archive: ${err.message}`)) : resolve(z),
    ),
  );
}

/**
 * Walks a zip's entries in order, calling `onEntry` for each (it may read the entry's data). Ends
 * only once no entry is being handled: nothing is written after it failed.
 */
async function eachZipEntry(zip: yauzl.ZipFile, onEntry: (entry: yauzl.Entry) => Promise<void>): Promise<void> {
  let current: Promise<void> = Promise.resolve();
  await new Promise<void>((resolve, reject) => {
    zip.on('error', (err) => void current.then(() => reject(err), () => reject(err)));
    zip.on('end', resolve);
    zip.on('entry', (entry: yauzl.Entry) => {
      current = onEntry(entry);
      current.then(
        () => zip.readEntry(),
        (err) => {
          zip.close();
          reject(err);
        },
      );
    });
    zip.readEntry();
  });
}

function asRefusal(err: unknown, archive: string): ArchiveRefusal {
  if (err instanceof ArchiveRefusal) return err;
  const message = (err as Error).message;
  if (/invalid relative path|absolute path/i.test(message)) {
    return new ArchiveRefusal(ErrorType.PixyzSecurityViolation, `'${archive}' holds an entry outside the archive: ${message}`);
  }
  return new ArchiveRefusal(ErrorType.InvalidInput, `'${archive}' could not be unpacked: ${(err as Error).message}`);
}

/** A file-system error while unpacking `name`, said in the entry's terms (never the server's paths). */
function entryError(err: unknown, archive: string, name: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const shown = name.length > 120 ? `${name.slice(0, 100)}…` : name;
  if (code === 'ENAMETOOLONG') {
    return new ArchiveRefusal(ErrorType.InvalidInput, `'${archive}' could not be unpacked: the name '${shown}' is too long for the file system`);
  }
  if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
    return new ArchiveRefusal(ErrorType.InvalidInput, `'${archive}' could not be unpacked: '${shown}' clashes with a file or folder of the same name`);
  }
  // Any other error of the file system (ENOSPC, EACCES…); the archive's own (zlib's Z_…) say enough.
  if (code?.startsWith('E')) {
    return new ArchiveRefusal(ErrorType.InvalidInput, `'${archive}' could not be unpacked: '${shown}' could not be written (${code})`);
  }
  return err;
}

/**
 * Writes one entry's data to `target` with `write` (a pipeline ending in the file). On an error,
 * returns only once the file is closed: the caller may then remove it.
 */
async function writeEntry(target: string, write: (out: fs.WriteStream) => Promise<void>): Promise<void> {
  const out = fs.createWriteStream(target, { mode: FILE_MODE, flags: 'wx' });
  try {
    await write(out);
  } catch (err) {
    if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
    throw err;
  }
}

/** Checks a zip entry's data against the CRC-32 its archive states, at its end. */
function crcCheck(archive: string, entry: yauzl.Entry): Transform {
  let crc = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      crc = zlib.crc32(chunk, crc);
      done(null, chunk);
    },
    flush(done) {
      if (crc >>> 0 === entry.crc32 >>> 0) done();
      else done(new ArchiveRefusal(ErrorType.InvalidInput, `'${archive}' is damaged: the data of '${entry.fileName}' does not match its CRC`));
    },
  });
}

/**
 * Checks a zip from its central directory alone (names, types, counts, declared sizes), without
 * unpacking anything: what the API refuses at once. The bytes are counted again when unpacking.
 */
export async function inspectZip(file: string, limits: ExtractLimits): Promise<void> {
  const archive = path.basename(file);
  const size = (await fsp.stat(file)).size;
  const rules = new EntryRules(archive, '/inspect', limits, Math.max(RATIO_FLOOR_BYTES, size * limits.maxRatio));
  const zip = await openZip(file);
  let declared = 0;
  try {
    await eachZipEntry(zip, async (entry) => {
      rules.check(entry.fileName, zipEntryType(entry));
      declared += entry.uncompressedSize;
      if (declared > limits.maxBytes) {
        throw new ArchiveRefusal(ErrorType.InvalidInput, `'${archive}' unpacks to more than ${limits.maxBytes} bytes (MAX_EXTRACT_BYTES)`);
      }
    });
  } catch (err) {
    throw asRefusal(err, archive);
  }
}

async function extractZipTo(file: string, rules: EntryRules): Promise<void> {
  const archive = path.basename(file);
  const zip = await openZip(file);
  await eachZipEntry(zip, async (entry) => {
    const type = zipEntryType(entry);
    const target = rules.check(entry.fileName, type);
    try {
      if (type === 'directory') {
        await fsp.mkdir(target, { recursive: true, mode: DIR_MODE });
        return;
      }
      await fsp.mkdir(path.dirname(target), { recursive: true, mode: DIR_MODE });
      const input = await new Promise<Readable>((res, rej) => zip.openReadStream(entry, (err, s) => (err ? rej(err) : res(s))));
      await writeEntry(target, (out) => pipeline(input, rules.counter(), crcCheck(archive, entry), out));
    } catch (err) {
      throw entryError(err, archive, entry.fileName);
    }
  });
}

const TAR_TYPES: Record<string, EntryType> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'directory',
  symlink: 'symlink',
  link: 'link',
  'character-device': 'device',
  'block-device': 'device',
  fifo: 'fifo',
};

async function extractTarGzTo(file: string, rules: EntryRules): Promise<void> {
  const archive = path.basename(file);
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const { name, type } = entry.header;
      // pax headers and GNU long names are folded in by tar-stream; anything else unknown is refused.
      const target = rules.check(type === 'directory' ? name.replace(/\/+$/, '') : name, TAR_TYPES[type ?? 'file'] ?? 'other');
      try {
        if (type === 'directory') {
          await fsp.mkdir(target, { recursive: true, mode: DIR_MODE });
          entry.resume();
          continue;
        }
        await fsp.mkdir(path.dirname(target), { recursive: true, mode: DIR_MODE });
        await writeEntry(target, (out) => pipeline(entry, rules.counter(), out));
      } catch (err) {
        throw entryError(err, archive, name);
      }
    }
  })();
  // Both settle before this returns, failed or not: no entry is still being written afterwards.
  const results = await Promise.allSettled([pipeline(fs.createReadStream(file), zlib.createGunzip(), extract), done]);
  const reasons = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (reasons.length > 0) throw reasons.find((r) => r instanceof ArchiveRefusal) ?? reasons[0];
}

/**
 * Unpacks an archive into `dest` (created), by the rules above. Returns the number of entries.
 * When unpacking fails part-way, `dest` is removed with everything unpacked so far.
 */
export async function extractArchive(file: string, dest: string, limits: ExtractLimits): Promise<number> {
  const kind = archiveKind(file);
  const archive = path.basename(file);
  if (!kind) throw new ArchiveRefusal(ErrorType.InvalidInput, `'${archive}' is not a .zip or .tar.gz archive`);
  const size = (await fsp.stat(file)).size;
  await fsp.mkdir(dest, { recursive: true, mode: DIR_MODE });
  const rules = new EntryRules(archive, dest, limits, Math.max(RATIO_FLOOR_BYTES, size * limits.maxRatio));
  try {
    if (kind === 'zip') await extractZipTo(file, rules);
    else await extractTarGzTo(file, rules);
  } catch (err) {
    await fsp.rm(dest, { recursive: true, force: true, maxRetries: 3 });
    throw asRefusal(err, archive);
  }
  return rules.count;
}

// Upstream's list of extensions it recognises as a model when it looks for an archive's root file.
const MODEL_EXTENSIONS = new Set(
  (
    'PXZ 3DS ACIS SAT SAB DWG DXF WIRE FBX IPT IAM NWD NWC RVT RFA RCP RCS VPB CATPART CATPRODUCT CATSHAPE CGR 3DXML ' +
    'ASM NEU PRT XAS XPR PVS PVZ CSB GLTF GLB GDS IFC IGS IGES JT OBJ X_B X_T P_T P_B XMT XMT_TXT XMT_BIN PDF PLMXML ' +
    'E57 PTS PTX PRC 3DM RVM SKP PAR PWD PSM SLDASM SLDPRT STP STEP STPZ STEPZ STPX STPXZ STL U3D USD USDZ USDA USDC ' +
    'VDA WRL VRML BREP BRP PLY OFF DAE 3MF'
  ).split(' '),
);

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

/**
 * What macOS adds to the archives it makes, beside the files: resource forks (`__MACOSX/…`,
 * `._name`) and Finder's `.DS_Store`. Never a model, whatever their extension says.
 */
function isMacMetadata(relative: string): boolean {
  const segments = relative.split('/');
  const base = segments[segments.length - 1]!;
  return segments.includes('__MACOSX') || base.startsWith('._') || base === '.DS_Store';
}

/**
 * The file to load in an unpacked archive: `rootFile` when given, else the first model file
 * (macOS's metadata files skipped).
 */
export async function findRootFile(dir: string, rootFile: string | null, archiveName: string): Promise<string> {
  if (rootFile) {
    const target = path.resolve(dir, rootFile);
    if (rootFile.split(/[\\/]/).includes('..') || !isInside(dir, target)) {
      throw new ArchiveRefusal(ErrorType.PixyzSecurityViolation, `root_file '${rootFile}' leaves the archive`);
    }
    if (!fs.existsSync(target) || !fs.statSync(target).isFile()) {
      throw new ArchiveRefusal(ErrorType.PixyzFileNotFound, `root_file '${rootFile}' is not in '${archiveName}'`);
    }
    return target;
  }
  const files = await listFiles(dir);
  const model = files.find((f) => !isMacMetadata(f) && MODEL_EXTENSIONS.has(path.extname(f).slice(1).toUpperCase()));
  if (!model) {
    throw new ArchiveRefusal(
      ErrorType.PixyzFileNotFound,
      `'${archiveName}' holds no file with a known 3D extension; name the file to load with config.root_file`,
    );
  }
  return path.join(dir, model);
}
