import type { Canvas, ProgressSnapshot, SpawnOutput } from './types';

// The small typed messages between the runScript activity and the script process (Node IPC).

/** What the script process needs to build its ProgramContext, with absolute paths. */
export interface ScriptJob {
  jobId: string;
  script: string;
  entrypoint: string;
  params: unknown;
  name: string | null;
  queue: string;
  timeLimitSeconds: number;
  computeOnly: boolean;
  timeRequest: string;
  data: string | null;
  rootFile: string | null;
  inputFile: string | null;
  inputDir: string | null;
  outputDir: string | null;
  attempt: number;
}

/** What the script asks of its activity: start sub-tasks, wait for one, read its state. */
export type RunnerRequest =
  | { op: 'spawn'; canvas: Canvas }
  | { op: 'join'; id: string; kind: 'task' | 'canvas'; timeoutMs: number | null }
  | { op: 'status'; id: string };

export type RunnerReply = { ok: true; value: unknown } | { ok: false; error: ScriptErrorInfo & { childId?: string } };

export type ToRunner =
  /**
   * Runs the job in `cwd`, with `env` added to the process's (scrubbed) environment. After the
   * job the runner writes `endMarker` and a newline on stdout and on stderr, so that the activity
   * knows it has all of this job's output before the process serves another job. `code` is the
   * script compiled to CommonJS by the worker (null: load it as an ES module; absent: the runner
   * compiles it).
   */
  | { type: 'run'; job: ScriptJob; cwd?: string; env?: Record<string, string>; endMarker?: string; code?: string | null }
  | ({ type: 'reply'; requestId: number } & RunnerReply);

export type SpawnReply = SpawnOutput;

export interface ScriptErrorInfo {
  /** An ErrorType for errors the runner itself raises, else the script error's class name. */
  type: string;
  name: string;
  message: string;
  stack: string | null;
}

export type FromRunner =
  | { type: 'ready' }
  | { type: 'progress'; progress: ProgressSnapshot }
  | ({ type: 'request'; requestId: number } & RunnerRequest)
  | ({ type: 'result'; value: unknown; progress: ProgressSnapshot } & JobEnd)
  | ({ type: 'error'; error: ScriptErrorInfo; progress: ProgressSnapshot | null } & JobEnd)
  /**
   * Sent after a job's result or error, once the process has checked what the job left behind:
   * it may serve another job unless `retire` says why not. (The check reads /proc, about a
   * millisecond: the job's answer does not wait for it.)
   */
  | { type: 'idle'; retire?: string };

/** What every job's last message says about the process, for its log and the pool. */
export interface JobEnd {
  usage?: ScriptUsage;
  /** Why this process must not serve another job (it is exiting: no `idle` follows); absent: its `idle` message says. */
  retire?: string;
}

/** What the script process used for one job. */
export interface ScriptUsage {
  /** Peak resident set size during the job (of the process so far where the job's own peak cannot be read), in bytes. */
  peakRssBytes: number;
  /** Resident set size once the job is over, in bytes: the pool replaces a process that grew too large. */
  rssBytes?: number;
  /** CPU time of the job, user + system, in seconds. */
  cpuSeconds: number;
}

/** Results travel through Temporal (about 2 MB a payload): keep them well under. */
export const MAX_RESULT_BYTES = 1024 * 1024;
