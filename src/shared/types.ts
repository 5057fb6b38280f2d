// One object in, one object out: the payloads of the workflow, its activities and its query.
// Payloads carry paths (relative to SHARE_PATH), never file bytes. Imported by workflows: no
// Node built-ins here.

/** Upstream's job states, as the API shows them. */
export type JobStatus = 'PENDING' | 'STARTED' | 'RUNNING' | 'RETRY' | 'SUCCESS' | 'FAILURE' | 'REVOKED';

export interface ProgressStep {
  info: string;
  /** Seconds; -1 while the step runs (upstream). */
  duration: number;
}

/** What a script reports; travels as runScript heartbeat details. */
export interface ProgressSnapshot {
  total: number;
  /** Steps begun so far. */
  current: number;
  /** 0–100, upstream's formula: floor((steps - 1) / total * 100); 100 once stopped. */
  progress: number;
  /** The newest steps (at most 1,000): `current` counts them all. */
  steps: ProgressStep[];
  /** ISO instant the script's progress started. */
  started: string;
  /** ISO instant progress stopped (the script returned), else null. */
  stopped: string | null;
}

export interface JobInput {
  /** The job id, also the workflow id (a lowercase UUID). */
  jobId: string;
  /** `custom` for an uploaded script, else a predefined process name. */
  process: string;
  /** The script, relative to SHARE_PATH (uploads) or to the repository (processes). */
  script: string;
  entrypoint: string;
  params: unknown;
  /** The uploaded model file or archive, relative to SHARE_PATH, or null. */
  data: string | null;
  /** The file to load inside an uploaded archive. */
  rootFile: string | null;
  /** Logical queue of runScript (control, cpu, gpu or a custom one). */
  queue: string;
  timeLimitSeconds: number;
  /** Attempts after a crashed or killed script process (pixyzSchedule `retries`; default 1). */
  retries?: number;
  computeOnly: boolean;
  name: string | null;
  /** Naive UTC ISO time of the request, as upstream shows it. */
  timeRequest: string;
  /** Prefix of every task queue this job uses (TASK_QUEUE_PREFIX), kept by its sub-tasks. */
  taskQueuePrefix: string;
  /**
   * A sub-task spawned from `pc.clone()` works in its parent's directory: the job id whose
   * directory it uses. It then skips prepareShare and zipOutputs.
   */
  shareOf?: string | null;
  /** A sub-task sharing its parent's directory reuses the parent's resolved input file. */
  inputFile?: string | null;
  /** The job that spawned this one. */
  parentId?: string | null;
  /** A worker's warm-up run (pixyzWarmUp): not a job, neither recorded nor counted. */
  warmUp?: boolean;
  /** The job path this input was made for (src/workflows/path-version.ts); absent before version 2. */
  pathVersion?: number;
}

/** One sub-task to start, as `pc.execute()` or a canvas step describes it. */
export interface TaskSignature {
  kind: 'task';
  /** The child's job id, chosen by the caller (a UUID): spawning is idempotent. */
  id: string;
  entrypoint: string;
  /** undefined in a chain step: it receives the previous step's result. */
  params?: unknown;
  queue: string;
  timeLimitSeconds: number | null;
  /** Return the entrypoint's value as is (true), or upstream's progress object around it. */
  raw: boolean;
  /** true for a context from `pc.clone()`: work in the parent's directory. */
  shareParent: boolean;
  /** For a child with its own directory: its input, relative to SHARE_PATH. */
  data: string | null;
  rootFile: string | null;
  computeOnly: boolean;
  name: string | null;
  /** Another script's entrypoint: a predefined process by name (TypeScript or Python); unset: the job's own script. */
  process?: string;
  /**
   * With `process`: the script did not choose `queue` (the SDK's default is there), and the
   * process's own `pixyzSchedule` queue, when it states one, takes its place.
   */
  queueDefaulted?: boolean;
  /** The process's script, relative to the repository: set by the worker from `process`, never by a script. */
  script?: string;
}

/** Upstream's canvas (Celery): sub-tasks in parallel, in sequence, or a group then a merge. */
export type Canvas =
  | TaskSignature
  | { kind: 'group'; id: string; items: Canvas[] }
  | { kind: 'chain'; id: string; items: Canvas[] }
  | { kind: 'chord'; id: string; header: Canvas[]; body: Canvas };

export interface SpawnInput {
  canvas: Canvas;
}

export interface SpawnOutput {
  /** The id to join: the child job's, or the canvas workflow's. */
  id: string;
  /** Every task id the canvas will run, in order. */
  tasks: string[];
}

export interface CanvasInput {
  canvas: Canvas;
  /** The job that spawned the canvas: its children take their defaults from it. */
  parent: JobInput;
}

/** A non-raw sub-task's value, upstream's progress object around the entrypoint's return. */
export interface TaskOutput {
  shadow_name: string | null;
  time_info: TimeInfo;
  progress: number;
  steps: ProgressStep[];
  result: unknown;
}

export interface TimeInfo {
  request: string | null;
  started: string | null;
  stopped: string | null;
}

export interface JobResult {
  /** What the script's entrypoint returned. */
  result: unknown;
  /** Attempts of the script beyond the first (upstream's `retry`). */
  retry: number;
  progress: ProgressSnapshot;
  timeInfo: TimeInfo;
  /** The zip of outputs/, relative to SHARE_PATH, or null for compute-only jobs. */
  archive: string | null;
  /** Its sub-tasks' final counts (absent in results of workers before 2026-12): an event stream ends with them without reading the memo. */
  children?: { started: number; done: number; failed: number };
}

/** What the workflow's `status` query answers. */
export interface JobStatusView {
  status: JobStatus;
  phase: 'queued' | 'preparing' | 'running' | 'archiving' | 'done';
  /** Sub-tasks this job started, that ended, and that failed (a canvas counts its tasks). */
  children: { started: number; done: number; failed: number };
}

/**
 * What a failed job publishes in its memo (key `failure`) as it ends, since published-state-v1:
 * with its status from visibility, all GET /jobs shows of it.
 */
export interface PublishedFailure {
  error: string;
  progress: number | null;
}

/**
 * Memo stored with each job (from jobVisibility, src/shared/search-attributes.ts, at its start;
 * the workflow adds to it): what the API shows without reading history.
 */
export interface JobMemo {
  name: string | null;
  process: string;
  timeRequest: string;
  /** Set by the workflow once it has sub-tasks. */
  children?: JobStatusView['children'];
  /** A sub-task's parent job. */
  parentId?: string | null;
  /** A sub-task working in its parent's directory: the job that owns the directory. */
  shareOf?: string | null;
  /** Set by a job that failed, as it ends (since published-state-v1): what GET /jobs shows of it. */
  failure?: PublishedFailure;
  /** The task queue its script runs on (set at submission): what a PENDING job waits for. */
  scriptQueue?: string;
}

export interface PrepareShareInput {
  jobId: string;
  data: string | null;
  rootFile: string | null;
}

export interface PreparedShare {
  /** The file the script loads (the upload, or the root file inside an archive), relative to SHARE_PATH. */
  inputFile: string | null;
}

export interface RunScriptInput {
  job: JobInput;
  inputFile: string | null;
  /**
   * Set by workflows that skip prepareShare for a job without an archive to unpack: runScript
   * creates the job's directories and checks its input file itself, and says whether the script
   * left outputs/ empty, so that no zipOutputs step runs for nothing.
   */
  ownsShare?: boolean;
  /** Signal the workflow (scriptRunning) once the script has run this long; unset: never. */
  announceRunningAfterMs?: number;
  /**
   * Record a success (state.json, the job metrics) when nothing follows the script: no sub-task
   * started and no outputs to zip. `recorded` in the output says whether it did.
   */
  recordsSuccess?: boolean;
}

export interface RunScriptOutput {
  result: unknown;
  progress: ProgressSnapshot;
  /** Which attempt succeeded (1 = the first). */
  attempt: number;
  /** With `ownsShare`: true when the job has no outputs, and no sub-task that might still write some (nothing to zip). */
  outputsEmpty?: boolean;
  /** With `ownsShare`: true when the script started sub-tasks (which may write outputs after it returned). */
  spawned?: boolean;
  /** With `recordsSuccess`: true when runScript recorded the success itself. */
  recorded?: boolean;
}

export interface ZipOutputsInput {
  jobId: string;
}

export interface ZipOutputsOutput {
  archive: string;
  entries: number;
  bytes: number;
}

/** What a job writes into its directory when it ends (state.json): the API's answer once Temporal has forgotten it. */
export interface FinalState {
  jobId: string;
  status: 'SUCCESS' | 'FAILURE' | 'REVOKED';
  name: string | null;
  result: unknown;
  error: { type: string; message: string; stack: string | null } | null;
  progress: ProgressSnapshot | null;
  timeInfo: TimeInfo;
  retry: number;
}

export interface RecordStateInput {
  state: FinalState;
  /** The process name (or script file) for the job metrics. */
  process: string;
  /** false for jobs without a directory of their own: counted, not written. */
  write: boolean;
}

export interface WarmUpInput {
  /** The script queues whose workers get a warm-up run, one after another. */
  queues: string[];
  taskQueuePrefix: string;
  /** Upstream's naive UTC time, as a job's. */
  timeRequest: string;
}
