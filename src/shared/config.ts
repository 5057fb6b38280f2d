import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { defaultPython, PACKAGE_DIR } from '../../tools/python-package.cjs';
import { ROOT } from '../../tools/temporal-cli.cjs';
import { CONTROL_QUEUE, SHARE_QUEUE, STANDARD_QUEUES } from './queues';

/**
 * The repository root: scripts/, the SDK and the runner are found from here. Taken from tools/,
 * which stays in place when this file runs from the script processes' build (build/runtime).
 */
export const REPO_ROOT = ROOT;

export interface WorkerConfig {
  /** Logical queues this worker serves (control, cpu, gpu, custom ones, share). */
  readonly queues: readonly string[];
  /** Scripts running at once on each cpu/gpu/custom queue of this worker. */
  readonly concurrentTasks: number;
  /** Scripts running at once on the control queue (they mostly wait on sub-tasks). */
  readonly controlConcurrency: number;
  /** V8 heap cap of one Node script process (TypeScript, JavaScript) in MiB; 0 = Node's default. Python's are not capped. */
  readonly scriptMaxMemoryMb: number;
  /** Added to script processes' niceness: the worker, API and Temporal stay responsive when scripts fill the cores. */
  readonly scriptNiceness: number;
  /** How long a stopping worker lets running scripts finish, in ms. */
  readonly shutdownGraceMs: number;
  /** Script processes of each runner (Node's, Python's) kept started ahead of their jobs (0: start each on demand). */
  readonly runnerPoolSize: number;
  /** Jobs one script process serves before it is replaced (1: a process per job). */
  readonly runnerMaxJobs: number;
  /** Resident memory in MiB past which a script process is replaced after a job; 0 = no bound. */
  readonly runnerMaxMemoryMb: number;
  /** host:port where the Temporal SDK's Prometheus metrics are served; unset: none. */
  readonly metricsAddress: string | undefined;
  /** Port of the worker's /livez and /readyz (`npm run worker`, the image); unset: none. */
  readonly healthPort: number | undefined;
  /** A workflow bundle made ahead (the image makes one at build time); unset: bundled at start. */
  readonly workflowBundlePath: string | undefined;
}

export interface Config {
  readonly apiPort: number;
  readonly apiHost: string;
  readonly sharePath: string;
  /** Predefined processes: one job script per process, `<name>` with one of SCRIPT_EXTENSIONS (`.ts`, `.js`, `.py`…). */
  readonly processPath: string;
  /** The interpreter of Python job scripts (PIXYZ_PYTHON), which also reads their options at submission. */
  readonly python: string;
  readonly temporal: {
    /** Unset: `npm start` runs the embedded dev server. */
    readonly address: string | undefined;
    readonly namespace: string;
    readonly devPort: number;
    readonly uiPort: number;
    readonly devDbFile: string;
    /** The Temporal Web UI, for links to a job's workflow: TEMPORAL_UI_URL, else the embedded server's. */
    readonly uiUrl: string | null;
  };
  /** Lowercase hex SHA-256 of the API key; undefined refuses every protected route. */
  readonly godPasswordSha256: string | undefined;
  /** Where `npm start` keeps the key it generated when GOD_PASSWORD_SHA256 is unset. */
  readonly apiKeyFile: string;
  /** Queues a job may name: control, cpu, gpu and custom ones. */
  readonly queues: readonly string[];
  readonly taskQueuePrefix: string;
  readonly jobRetentionSeconds: number;
  /** How often a worker serving `share` removes expired job directories. */
  readonly cleanupIntervalMs: number;
  readonly defaultTimeLimitSeconds: number;
  readonly maxUploadBytes: number;
  readonly maxExtractBytes: number;
  readonly maxExtractEntries: number;
  readonly maxExtractRatio: number;
  readonly worker: WorkerConfig;
  readonly logLevel: string;
}

/** The Python package of Python job scripts (`pixyz_worker`, `celery`'s names): put on every interpreter's path. */
export const PYTHON_PACKAGE_DIR = PACKAGE_DIR;

/**
 * The cores this process may use: the machine's, or fewer under a cgroup CPU quota (a container's
 * `--cpus`, a pod's CPU limit), which os.availableParallelism() does not see.
 */
export function usableCores(cpuMax = '/sys/fs/cgroup/cpu.max'): number {
  const cores = os.availableParallelism();
  try {
    const [quota, period] = fs.readFileSync(cpuMax, 'utf8').trim().split(/\s+/);
    if (quota && quota !== 'max' && Number(period) > 0) return Math.max(1, Math.min(cores, Math.ceil(Number(quota) / Number(period))));
  } catch {
    // no cgroup v2 quota here
  }
  return cores;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** `7d`, `168h`, `90m`, `30s` or a plain number of seconds. */
export function parseDurationSeconds(name: string, value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$/.exec(value);
  if (!m) throw new ConfigError(`${name}=${value}: expected a duration such as 30s, 90m, 168h or 7d`);
  return Number(m[1]) * UNITS[m[2] || 's']!;
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `10G`, `512M`, `1024` (bytes). */
export function parseBytes(name: string, value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(value);
  if (!m) throw new ConfigError(`${name}=${value}: expected a size such as 512M or 10G`);
  return Math.floor(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!);
}

function int(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name}=${raw}: expected a whole number ≥ ${min}`);
  return n;
}

function list(raw: string | undefined, fallback: readonly string[]): string[] {
  if (raw === undefined || raw.trim() === '') return [...fallback];
  return [...new Set(raw.split(',').map((s) => s.trim()).filter(Boolean))];
}

const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

function queueNames(name: string, values: string[]): string[] {
  for (const q of values) {
    if (!QUEUE_NAME.test(q)) throw new ConfigError(`${name}: '${q}' is not a valid queue name`);
  }
  return values;
}

/** PROCESS_PATH: where the predefined processes are (read alone by local mode, which needs no other setting). */
export function processPathOf(env: Env = process.env): string {
  return path.resolve(env.PROCESS_PATH || path.join(REPO_ROOT, 'scripts', 'process'));
}

/**
 * Reads configuration once from the environment (plus `.env` in the working directory, which
 * never overrides a variable already set).
 */
export function loadConfig(env: Env = withDotEnv(process.env)): Config {
  const queues = queueNames('QUEUES', list(env.QUEUES, STANDARD_QUEUES));
  if (!queues.includes(CONTROL_QUEUE)) queues.unshift(CONTROL_QUEUE);
  const workerQueues = queueNames('WORKER_QUEUES', list(env.WORKER_QUEUES, [...queues, SHARE_QUEUE]));
  const hash = env.GOD_PASSWORD_SHA256?.trim();
  if (hash && !/^[0-9a-fA-F]{64}$/.test(hash)) {
    throw new ConfigError('GOD_PASSWORD_SHA256 must be the 64-hex-digit SHA-256 of the API key');
  }
  const config: Config = {
    apiPort: int(env, 'API_PORT', 8001),
    apiHost: env.API_HOST || '0.0.0.0',
    sharePath: path.resolve(env.SHARE_PATH || path.join(REPO_ROOT, 'share')),
    processPath: processPathOf(env),
    python: env.PIXYZ_PYTHON || defaultPython(),
    temporal: {
      address: env.TEMPORAL_ADDRESS || undefined,
      namespace: env.TEMPORAL_NAMESPACE || 'default',
      devPort: int(env, 'TEMPORAL_DEV_PORT', 7233, 1),
      uiPort: int(env, 'TEMPORAL_UI_PORT', 8233, 1),
      devDbFile: path.resolve(env.TEMPORAL_DB_FILE || path.join(REPO_ROOT, '.temporal', 'temporal.db')),
      uiUrl: env.TEMPORAL_UI_URL || (env.TEMPORAL_ADDRESS ? null : `http://127.0.0.1:${int(env, 'TEMPORAL_UI_PORT', 8233, 1)}`),
    },
    godPasswordSha256: hash ? hash.toLowerCase() : undefined,
    apiKeyFile: path.resolve(env.API_KEY_FILE || path.join(REPO_ROOT, '.temporal', 'api-key')),
    queues,
    taskQueuePrefix: env.TASK_QUEUE_PREFIX || '',
    jobRetentionSeconds: parseDurationSeconds('JOB_RETENTION', env.JOB_RETENTION || '7d'),
    cleanupIntervalMs: parseDurationSeconds('CLEANUP_INTERVAL', env.CLEANUP_INTERVAL || '1h') * 1000,
    defaultTimeLimitSeconds: int(env, 'PIXYZ_TIME_LIMIT', 3600, 1),
    maxUploadBytes: parseBytes('MAX_UPLOAD_BYTES', env.MAX_UPLOAD_BYTES || '10G'),
    maxExtractBytes: parseBytes('MAX_EXTRACT_BYTES', env.MAX_EXTRACT_BYTES || '20G'),
    maxExtractEntries: int(env, 'MAX_EXTRACT_ENTRIES', 100_000, 1),
    maxExtractRatio: int(env, 'MAX_EXTRACT_RATIO', 200, 1),
    worker: {
      queues: workerQueues,
      concurrentTasks: int(env, 'CONCURRENT_TASKS', Math.max(1, usableCores() - 1), 1),
      controlConcurrency: int(env, 'CONTROL_CONCURRENCY', 50, 1),
      scriptMaxMemoryMb: int(env, 'SCRIPT_MAX_MEMORY_MB', 0),
      scriptNiceness: int(env, 'SCRIPT_NICENESS', 10, 0),
      shutdownGraceMs: parseDurationSeconds('WORKER_SHUTDOWN_GRACE', env.WORKER_SHUTDOWN_GRACE || '30s') * 1000,
      runnerPoolSize: int(env, 'RUNNER_POOL_SIZE', 2),
      runnerMaxJobs: int(env, 'RUNNER_MAX_JOBS', 1000, 1),
      runnerMaxMemoryMb: int(env, 'RUNNER_MAX_MEMORY_MB', 1024),
      metricsAddress: env.WORKER_METRICS_ADDRESS || undefined,
      healthPort: env.WORKER_HEALTH_PORT ? int(env, 'WORKER_HEALTH_PORT', 0, 0) : undefined,
      workflowBundlePath: env.WORKFLOW_BUNDLE ? path.resolve(env.WORKFLOW_BUNDLE) : undefined,
    },
    logLevel: env.LOG_LEVEL || 'info',
  };
  return deepFreeze(config);
}

/** The environment plus `.env` in the working directory (the environment wins). */
export function withDotEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const file = path.resolve('.env');
  if (!fs.existsSync(file)) return env;
  return { ...parseEnv(fs.readFileSync(file, 'utf8')), ...env };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The limits on unpacking an uploaded archive. */
export function extractLimits(config: Config): { maxBytes: number; maxEntries: number; maxRatio: number } {
  return { maxBytes: config.maxExtractBytes, maxEntries: config.maxExtractEntries, maxRatio: config.maxExtractRatio };
}
