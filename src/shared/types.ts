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
  computeOnly: boolean;
  name: string | null;
  /** Naive UTC ISO time of the request, as upstream shows it. */
  timeRequest: string;
  /** Prefix of every task queue this job uses (TASK_QUEUE_PREFIX), kept by its sub-tasks. */
  taskQueuePrefix: string;
}

export interface TimeInfo {
  request: string | null;
  started: string | null;
  stopped: string | null;
}

export interface JobResult {
  /** What the script's entrypoint returned. */
  result: unknown;
  progress: ProgressSnapshot;
  timeInfo: TimeInfo;
  /** The zip of outputs/, relative to SHARE_PATH, or null for compute-only jobs. */
  archive: string | null;
}

/** What the workflow's `status` query answers. */
export interface JobStatusView {
  status: JobStatus;
  phase: 'queued' | 'preparing' | 'running' | 'archiving' | 'done';
}

/** Memo stored with each job: what the API shows without reading history. */
export interface JobMemo {
  name: string | null;
  process: string;
  timeRequest: string;
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
}

export interface RunScriptOutput {
  result: unknown;
  progress: ProgressSnapshot;
}

export interface ZipOutputsInput {
  jobId: string;
}

export interface ZipOutputsOutput {
  archive: string;
  entries: number;
  bytes: number;
}
