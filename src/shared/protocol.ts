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
  /** Runs the job in `cwd`, with `env` added to the process's (scrubbed) environment. */
  | { type: 'run'; job: ScriptJob; cwd?: string; env?: Record<string, string> }
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
  | { type: 'result'; value: unknown; progress: ProgressSnapshot; usage?: ScriptUsage }
  | { type: 'error'; error: ScriptErrorInfo; progress: ProgressSnapshot | null; usage?: ScriptUsage };

/** What the script process used, from its start (pre-started in the pool) to its answer. */
export interface ScriptUsage {
  /** Peak resident set size, in bytes. */
  peakRssBytes: number;
  /** CPU time, user + system, in seconds. */
  cpuSeconds: number;
}

export function usageOfThisProcess(): ScriptUsage {
  const u = process.resourceUsage();
  return { peakRssBytes: u.maxRSS * 1024, cpuSeconds: (u.userCPUTime + u.systemCPUTime) / 1e6 };
}

/** Results travel through Temporal (about 2 MB a payload): keep them well under. */
export const MAX_RESULT_BYTES = 1024 * 1024;
