import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Request } from 'express';
import { INPUT_FORMATS } from '../geometry/formats';
import { archiveKind, ArchiveRefusal, inspectZip } from '../shared/archive';
import { extractLimits, REPO_ROOT, type Config } from '../shared/config';
import { CONTROL_QUEUE, taskQueueName } from '../shared/queues';
import { jobVisibility } from '../shared/search-attributes';
import { jobPaths, toShare } from '../shared/share';
import { naiveUtc } from '../shared/time';
import type { JobInput } from '../shared/types';
import { badRequest, HttpError, temporalUnreachable, unreachable } from './errors';
import { JOB_WORKFLOW_TYPE, readJobInput, type JobState } from './job-state';
import { paramsProblem, readParamSpecs } from '../shared/param-specs';
import { JOB_PATH_VERSION } from '../shared/path-version';
import { ORPHAN_AFTER_MS } from './orphans';
import { unknownProcess } from './processes';
import { inspectAnyScript, ScriptParseError } from './script-options';
import { jobOptions, MAX_NAME_LENGTH, parseJson, submittedConfig } from './job-options';
import { MAX_FIELD_BYTES, receiveUpload } from './upload';
import { processScript, SCRIPT_EXTENSIONS } from '../shared/processes';

export interface SubmitDeps {
  config: Config;
  client: Client;
  newId: () => string;
  onSubmitted?: (process: string) => void;
}

/** Starts a job's workflow, its memo and search attributes as GET /jobs reads them; 503 while Temporal is away. */
async function startJob(client: Client, config: Config, input: JobInput): Promise<void> {
  try {
    await client.workflow.start(JOB_WORKFLOW_TYPE, {
      taskQueue: taskQueueName(config.taskQueuePrefix, CONTROL_QUEUE),
      workflowId: input.jobId,
      // A job id names one job for good: a second start with it fails, even once the first ended.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
      args: [input],
      ...jobVisibility(input, { scriptQueue: taskQueueName(config.taskQueuePrefix, input.queue) }, false),
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
    await startJob(client, config, input);
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
    const upload = await receiveUpload(req, paths.inputs, config.maxUploadBytes);
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
      scheduled = (await inspectAnyScript(script.name, source, submitted.entrypoint, config.python)).options;
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
    await startJob(client, config, input);
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
