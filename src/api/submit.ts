import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Client } from '@temporalio/client';
import busboy from 'busboy';
import type { Request } from 'express';
import { INPUT_FORMATS } from '../geometry/formats';
import { archiveKind, ArchiveRefusal, inspectZip } from '../shared/archive';
import { extractLimits, REPO_ROOT, type Config } from '../shared/config';
import { CONTROL_QUEUE, DEFAULT_SCRIPT_QUEUE, taskQueueName } from '../shared/queues';
import { JOB_NAME, JOB_PROCESS, JOB_STATUS } from '../shared/search-attributes';
import { jobPaths, toShare } from '../shared/share';
import { naiveUtc } from '../shared/time';
import type { JobInput, JobMemo } from '../shared/types';
import { badRequest, HttpError, temporalUnreachable, unreachable } from './errors';
import { JOB_WORKFLOW_TYPE, readJobInput, type JobState } from './job-state';
import { paramsProblem, readParamSpecs } from '../shared/param-specs';
import { JOB_PATH_VERSION } from '../shared/path-version';
import { ORPHAN_AFTER_MS } from './orphans';
import { unknownProcess } from './processes';
import { AppliedSubmitConfig } from './schemas';
import { inspectAnyScript, ScriptParseError } from './script-options';
import { processScript, SCRIPT_EXTENSIONS } from '../shared/processes';

const FILE_PARTS = ['script', 'file'] as const;
type FilePart = (typeof FILE_PARTS)[number];
const MAX_FIELD_BYTES = 1024 * 1024;
const MAX_SCRIPT_BYTES = 5 * 1024 * 1024;
const MAX_TIME_LIMIT_SECONDS = 7 * 86400;
const MAX_NAME_LENGTH = 255;
const MAX_RETRIES = 10;

interface Upload {
  fields: Record<string, string>;
  files: Partial<Record<FilePart, { name: string; path: string; bytes: number }>>;
  /** The script part's bytes too (≤ MAX_SCRIPT_BYTES): its options are read without reading the file back. */
  scriptSource?: Buffer;
}

class ClientGone extends Error {}

/** A safe file name from a client's: its last path segment, without control characters. */
export function safeBasename(name: string | undefined): string | null {
  if (!name) return null;
  // eslint-disable-next-line no-control-regex -- control characters are what we strip
  const base = name.split(/[\\/]/).pop()!.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  if (!base || base === '.' || base === '..') return null;
  return base.slice(0, 255);
}

/** An upload that sends no byte for this long is dropped (its directory removed). */
export const UPLOAD_IDLE_MS = 120_000;
let uploadIdleMs = UPLOAD_IDLE_MS;
/** For tests: a shorter wait. */
export function setUploadIdleMs(ms: number): void {
  uploadIdleMs = ms;
}

/** Streams the multipart body: file parts straight to `inputsDir`, never whole in memory. */
function receive(req: Request, inputsDir: string, maxBytes: number): Promise<Upload> {
  return new Promise((resolve, reject) => {
    const upload: Upload = { fields: {}, files: {} };
    const writes: Promise<void>[] = [];
    const streams: { part: NodeJS.ReadableStream & { destroy(): void }; file: fs.WriteStream }[] = [];
    const scriptParts: { destroy(): void }[] = [];
    let failed = false;
    let total = 0; // all file parts together: MAX_UPLOAD_BYTES is for the whole upload
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      req.unpipe();
      req.resume(); // drain what the client still sends, so it can read our answer
      // Close every file being written before the caller removes the job directory: an open
      // handle would keep a deleted file's blocks allocated.
      for (const part of scriptParts) part.destroy();
      for (const { part, file } of streams) {
        part.destroy();
        file.destroy();
      }
      void Promise.allSettled(writes).then(() => reject(err));
    };
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        limits: { fileSize: maxBytes, fieldSize: MAX_FIELD_BYTES, fields: 32, files: 8 },
        // File names as clients send them today (UTF-8), not busboy's latin1 default.
        defParamCharset: 'utf8',
      });
    } catch (err) {
      return reject(badRequest(`Expected a multipart/form-data body: ${(err as Error).message}`));
    }
    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(badRequest(`The field '${name}' is over ${MAX_FIELD_BYTES} bytes`));
      else upload.fields[name] = value;
    });
    bb.on('file', (name, stream, info) => {
      const base = safeBasename(info.filename);
      if (failed || !(FILE_PARTS as readonly string[]).includes(name) || !base) {
        stream.resume(); // empty parts count as absent, as upstream
        return;
      }
      const part = name as FilePart;
      const other = FILE_PARTS.find((p) => p !== part && upload.files[p]?.name === base);
      if (other) {
        stream.resume();
        return fail(badRequest(`The 'script' and 'file' parts must have different names ('${base}')`));
      }
      const dest = path.join(inputsDir, base);
      const entry = { name: base, path: dest, bytes: 0 };
      upload.files[part] = entry;
      stream.on('limit', () => fail(new HttpError(413, `The upload is over ${maxBytes} bytes (MAX_UPLOAD_BYTES)`)));
      const count = (chunk: Buffer) => {
        entry.bytes += chunk.length;
        total += chunk.length;
        if (total > maxBytes) fail(new HttpError(413, `The upload is over ${maxBytes} bytes (MAX_UPLOAD_BYTES)`));
        if (part === 'script' && entry.bytes > MAX_SCRIPT_BYTES) fail(badRequest(`The script is over ${MAX_SCRIPT_BYTES} bytes`));
      };
      let written: Promise<unknown>;
      if (part === 'script') {
        // A script is small (MAX_SCRIPT_BYTES): kept in memory, its options are read from it, and
        // it is written in one call.
        const chunks: Buffer[] = [];
        scriptParts.push(stream);
        stream.on('data', (chunk: Buffer) => {
          count(chunk);
          if (!failed) chunks.push(chunk);
        });
        written = new Promise<void>((resolve, reject) => {
          stream.on('end', resolve);
          stream.on('close', resolve); // destroyed by a refusal: nothing to write
          stream.on('error', reject);
        }).then(() => {
          if (failed) return;
          upload.scriptSource = Buffer.concat(chunks);
          fs.writeFileSync(dest, upload.scriptSource, { mode: 0o644 });
        });
      } else {
        const file = fs.createWriteStream(dest, { mode: 0o644 });
        streams.push({ part: stream, file });
        stream.on('data', count);
        written = pipeline(stream, file);
      }
      writes.push(written.then(() => {}).catch((err) => fail(err as Error)));
    });
    bb.on('error', (err) => fail(badRequest(`Malformed multipart body: ${(err as Error).message}`)));
    bb.on('close', () => {
      void Promise.all(writes).then(() => {
        if (!failed) resolve(upload);
      });
    });
    req.on('close', () => {
      if (!req.complete) fail(new ClientGone('client disconnected during the upload'));
    });
    // However long an upload takes (a model may be gigabytes on a slow link), but not one that
    // stalls: its connection is dropped, as a client gone.
    const stalled = () => req.destroy();
    req.socket.setTimeout(uploadIdleMs, stalled);
    bb.on('close', () => req.socket.setTimeout(0));
    req.pipe(bb);
  });
}

/**
 * The most arrays and objects nested in one another that a JSON field may hold: a value nested
 * deeper would overflow the stack wherever it is handled recursively (Temporal's payload
 * converter, the script process, zod), and no job's parameters need as many.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * True when `text` nests arrays and objects more than `max` deep. Read from the text, before it
 * is parsed: a refused value is never built.
 */
export function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

function parseJson(field: string, text: string | undefined, fallback: unknown): unknown {
  if (text === undefined || text === '') return fallback;
  if (nestedDeeperThan(text, MAX_JSON_DEPTH)) {
    throw badRequest(`Invalid JSON string for '${field}': nested more than ${MAX_JSON_DEPTH} levels deep (the limit)`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`Invalid JSON string for '${field}': ${(err as Error).message}`);
  }
}


interface JobOptions {
  entrypoint: string;
  queue: string;
  timeLimitSeconds: number;
  retries: number | undefined;
  rootFile: string | null;
  computeOnly: boolean;
  name: string | null;
}

/** Precedence as upstream: the submission's `config` > the script's pixyzSchedule options > defaults. */
function jobOptions(config: Config, submitted: Record<string, unknown>, scheduled: Record<string, unknown>, name: string | null): JobOptions {
  const pick = (key: string, scheduleKey = key) => submitted[key] ?? scheduled[scheduleKey];
  const queue = pick('queue') ?? (scheduled.wait === true ? CONTROL_QUEUE : DEFAULT_SCRIPT_QUEUE);
  if (typeof queue !== 'string' || !config.queues.includes(queue)) {
    throw badRequest(`Invalid queue '${String(queue)}': configured queues are ${config.queues.join(', ')} (QUEUES)`);
  }
  const timeLimit = pick('time_limit', 'timeLimit') ?? config.defaultTimeLimitSeconds;
  if (typeof timeLimit !== 'number' || !(timeLimit > 0) || timeLimit > MAX_TIME_LIMIT_SECONDS) {
    throw badRequest(`Invalid time_limit '${String(timeLimit)}': a number of seconds between 1 and ${MAX_TIME_LIMIT_SECONDS}`);
  }
  const rootFile = submitted.root_file ?? null;
  if (rootFile !== null && typeof rootFile !== 'string') throw badRequest("Invalid root_file: expected a file name");
  const computeOnly = pick('compute_only', 'computeOnly') ?? false;
  if (typeof computeOnly !== 'boolean') throw badRequest('Invalid compute_only: expected true or false');
  const jobName = name ?? (typeof scheduled.name === 'string' ? scheduled.name : null);
  const retries = pick('retries');
  if (retries !== undefined && (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES)) {
    throw badRequest(`Invalid retries '${String(retries)}': a whole number from 0 to ${MAX_RETRIES}`);
  }
  return {
    entrypoint: submitted.entrypoint as string,
    queue,
    timeLimitSeconds: Math.ceil(timeLimit),
    retries: retries as number | undefined,
    rootFile,
    computeOnly,
    name: jobName,
  };
}

function submittedConfig(text: string | undefined): Record<string, unknown> {
  const parsed = parseJson('config', text, {});
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw badRequest("Invalid 'config': expected a JSON object");
  }
  // Null values mean "not set", as upstream; keys other than upstream's are ignored.
  const set = Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== null));
  const checked = AppliedSubmitConfig.safeParse(set);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const key = issue.path.join('.') || 'config';
    throw badRequest(`Invalid ${key} '${JSON.stringify(set[key as keyof typeof set])}': ${issue.message}`);
  }
  return { ...checked.data, entrypoint: checked.data.entrypoint ?? 'main' };
}

export interface SubmitDeps {
  config: Config;
  client: Client;
  newId: () => string;
  onSubmitted?: (process: string) => void;
}

/** Starts a job's workflow, its memo and search attributes as GET /jobs reads them; 503 while Temporal is away. */
async function startJob(client: Client, config: Config, input: JobInput, processLabel: string): Promise<void> {
  const memo: JobMemo = { name: input.name, process: input.process, timeRequest: input.timeRequest, scriptQueue: taskQueueName(config.taskQueuePrefix, input.queue) };
  try {
    await client.workflow.start(JOB_WORKFLOW_TYPE, {
      taskQueue: taskQueueName(config.taskQueuePrefix, CONTROL_QUEUE),
      workflowId: input.jobId,
      // A job id names one job for good: a second start with it fails, even once the first ended.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
      args: [input],
      memo: { ...memo },
      typedSearchAttributes: [
        { key: JOB_PROCESS, value: processLabel },
        { key: JOB_STATUS, value: 'PENDING' },
        ...(input.name ? [{ key: JOB_NAME, value: input.name }] : []),
      ],
    });
  } catch (err) {
    // Temporal away: upstream's 503; anything else is ours to fix.
    if (temporalUnreachable(err)) throw unreachable(err);
    throw err;
  }
}

/**
 * POST /jobs/{id}/rerun (beyond upstream): the same job again — its process or script, params,
 * options and name, with copies of its inputs — as a new job. The job's start input is read from
 * the first event of its history: a job Temporal has forgotten cannot be run again.
 */
export async function rerunJob(client: Client, config: Config, original: string, newId: string): Promise<JobState> {
  const before = await readJobInput(client, original);
  if (!before) throw new HttpError(404, `Job '${original}' has no start input left in Temporal: it cannot be run again`);
  if (before.parentId) throw badRequest(`Job '${original}' is a sub-task: run its parent again`);
  const from = jobPaths(config.sharePath, original);
  const to = jobPaths(config.sharePath, newId);
  // The new job's own copy of the inputs (not what unpacking an archive made: it runs again).
  const entries = await fsp.readdir(from.inputs, { withFileTypes: true }).catch(() => null);
  if (!entries) throw new HttpError(409, `Job '${original}' has no inputs left (its directory was deleted): it cannot be run again`);
  fs.mkdirSync(to.inputs, { recursive: true, mode: 0o755 });
  try {
    // Copied without holding the event loop: a model may be gigabytes.
    for (const entry of entries) if (entry.isFile()) await fsp.copyFile(path.join(from.inputs, entry.name), path.join(to.inputs, entry.name));
    const moved = (p: string | null) => (p && p.startsWith(`${original}/`) ? `${newId}/${p.slice(original.length + 1)}` : p);
    const input: JobInput = { ...before, jobId: newId, script: moved(before.script)!, data: moved(before.data), timeRequest: naiveUtc(), taskQueuePrefix: config.taskQueuePrefix, pathVersion: JOB_PATH_VERSION };
    await startJob(client, config, input, input.process === 'custom' ? path.basename(input.script) : input.process);
    return { uuid: newId, name: input.name, status: 'SENT', progress: null, error: null };
  } catch (err) {
    await fsp.rm(to.dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * How often a submission in progress dates its directory afresh: an upload stalled by its client
 * for over a minute is still not an orphan to the sweeper of any API sharing SHARE_PATH.
 */
let touchEveryMs = ORPHAN_AFTER_MS / 4;
/** For tests: a shorter interval. */
export function setSubmissionTouchMs(ms: number): void {
  touchEveryMs = ms;
}

/** POST /jobs: stores the upload under the new job's inputs/, validates, starts `pixyzJob`. */
export async function submitJob(req: Request, deps: SubmitDeps): Promise<JobState> {
  const { config, client } = deps;
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > config.maxUploadBytes + MAX_FIELD_BYTES * 2) {
    throw new HttpError(413, `The upload is over ${config.maxUploadBytes} bytes (MAX_UPLOAD_BYTES)`);
  }
  const jobId = deps.newId();
  const paths = jobPaths(config.sharePath, jobId);
  let touch: NodeJS.Timeout | undefined;
  // Two small calls, made synchronously: through libuv's thread pool each costs ~0.3 ms here.
  try {
    fs.mkdirSync(paths.inputs, { recursive: true, mode: 0o755 });
    touch = setInterval(() => {
      const now = new Date();
      fs.utimes(paths.dir, now, now, () => {});
    }, touchEveryMs);
    const upload = await receive(req, paths.inputs, config.maxUploadBytes);
    const processName = upload.fields.process || 'custom';
    // A predefined process runs its own script; an uploaded one is kept but not run, as upstream.
    let script: { name: string; path: string };
    if (processName === 'custom') {
      const uploaded = upload.files.script;
      if (!uploaded) throw badRequest("'custom' process requires a 'script' file");
      if (!SCRIPT_EXTENSIONS.includes(path.extname(uploaded.name).toLowerCase())) {
        throw badRequest(`The script '${uploaded.name}' must be TypeScript, JavaScript or Python (${SCRIPT_EXTENSIONS.join(', ')})`);
      }
      script = uploaded;
    } else {
      const file = processScript(config.processPath, processName);
      if (!file) throw badRequest(await unknownProcess(config.processPath, processName));
      script = { name: path.basename(file), path: file };
    }
    const params = parseJson('params', upload.fields.params, {});
    const submitted = submittedConfig(upload.fields.config);
    let scheduled: Record<string, unknown>;
    try {
      const source = processName === 'custom' && upload.scriptSource ? upload.scriptSource.toString('utf8') : await fsp.readFile(script.path, 'utf8');
      scheduled = (await inspectAnyScript(script.name, source, submitted.entrypoint as string, config.python)).options;
    } catch (err) {
      if (err instanceof ScriptParseError) throw badRequest(err.message);
      throw err;
    }
    // Params a process declares (pixyzSchedule's `params`) are checked now, not in the job.
    if (scheduled.params !== undefined) {
      const read = readParamSpecs(scheduled.params);
      if ('problem' in read) throw badRequest(`The script's ${read.problem}`);
      const problem = paramsProblem(read.specs, params);
      if (problem) throw badRequest(`Invalid params for '${processName === 'custom' ? script.name : processName}': ${problem}`);
    }
    // An archive whose central directory already breaks a rule is refused now, not in the job.
    const uploadedFile = upload.files.file;
    // A script that reads a model (pixyzSchedule's `input: 'model'`) gets one it can read, or the
    // submission is refused now, not once the job has queued.
    if (scheduled.input === 'model') {
      const supported = `${INPUT_FORMATS.join(', ')}, or a zip or tar of them`;
      if (!uploadedFile) throw badRequest(`'${processName === 'custom' ? script.name : processName}' needs a model: send one as 'file' (${supported})`);
      const ext = path.extname(uploadedFile.name).slice(1).toLowerCase();
      if (archiveKind(uploadedFile.name) === null && !(INPUT_FORMATS as readonly string[]).includes(ext)) {
        throw badRequest(`'${uploadedFile.name}' is not a model this process reads: send ${supported}`);
      }
    }
    if (uploadedFile && archiveKind(uploadedFile.name) === 'zip') {
      try {
        await inspectZip(uploadedFile.path, extractLimits(config));
      } catch (err) {
        if (err instanceof ArchiveRefusal) throw badRequest(err.message);
        throw err;
      }
    }
    const name = upload.fields.name || null;
    if (name !== null && name.length > MAX_NAME_LENGTH) throw badRequest(`The name is over ${MAX_NAME_LENGTH} characters`);
    const options = jobOptions(config, submitted, scheduled, name);
    const input: JobInput = {
      jobId,
      process: processName,
      // Uploads travel relative to the share; a process script relative to the repository.
      script: processName === 'custom' ? toShare(config.sharePath, script.path) : path.relative(REPO_ROOT, script.path),
      entrypoint: options.entrypoint,
      params,
      data: upload.files.file ? toShare(config.sharePath, upload.files.file.path) : null,
      rootFile: options.rootFile,
      queue: options.queue,
      timeLimitSeconds: options.timeLimitSeconds,
      ...(options.retries === undefined ? {} : { retries: options.retries }),
      computeOnly: options.computeOnly,
      name: options.name,
      timeRequest: naiveUtc(),
      taskQueuePrefix: config.taskQueuePrefix,
      pathVersion: JOB_PATH_VERSION,
    };
    await startJob(client, config, input, processName === 'custom' ? script.name : processName);
    deps.onSubmitted?.(processName);
    return { uuid: jobId, name: input.name, status: 'SENT', progress: null, error: null };
  } catch (err) {
    // A refused or abandoned submission leaves nothing behind (its directory made first, if at all).
    await fsp.rm(paths.dir, { recursive: true, force: true });
    throw err;
  } finally {
    clearInterval(touch);
  }
}
