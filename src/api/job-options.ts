// What a job runs with, from what was submitted: JSON fields read with bounds, and the options
// merged (the submission's config, the script's pixyzSchedule options, the defaults) and checked
// through one schema. No I/O.
import type { Config } from '../shared/config';
import { CONTROL_QUEUE, DEFAULT_SCRIPT_QUEUE } from '../shared/queues';
import { badRequest } from './errors';
import { AppliedSubmitConfig } from './schemas';

/** The longest job name. */
export const MAX_NAME_LENGTH = 255;

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

export function parseJson(field: string, text: string | undefined, fallback: unknown): unknown {
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

export interface JobOptions {
  entrypoint: string;
  queue: string;
  timeLimitSeconds: number;
  retries: number | undefined;
  rootFile: string | null;
  computeOnly: boolean;
  name: string | null;
}

/**
 * Precedence as upstream: the submission's `config` > the script's pixyzSchedule options >
 * defaults, the result checked through the same schema as the submitted config (a script's
 * option is held to the submission's limits); the queue must be a configured one.
 */
export function jobOptions(config: Config, submitted: SubmittedConfig, scheduled: Record<string, unknown>, name: string | null): JobOptions {
  const merged = {
    entrypoint: submitted.entrypoint,
    queue: submitted.queue ?? scheduled.queue ?? (scheduled.wait === true ? CONTROL_QUEUE : DEFAULT_SCRIPT_QUEUE),
    time_limit: submitted.time_limit ?? scheduled.timeLimit ?? config.defaultTimeLimitSeconds,
    root_file: submitted.root_file,
    compute_only: submitted.compute_only ?? scheduled.computeOnly ?? false,
    retries: submitted.retries ?? scheduled.retries,
  };
  // The submitted values passed already: what fails here is the script's own option.
  const options = checkedConfig(merged, " (the script's pixyzSchedule option)");
  if (!config.queues.includes(options.queue!)) {
    throw badRequest(`Invalid queue '${options.queue}': configured queues are ${config.queues.join(', ')} (QUEUES)`);
  }
  return {
    entrypoint: options.entrypoint!,
    queue: options.queue!,
    timeLimitSeconds: Math.ceil(options.time_limit!),
    retries: options.retries,
    rootFile: options.root_file ?? null,
    computeOnly: options.compute_only ?? false,
    name: name ?? (typeof scheduled.name === 'string' ? scheduled.name : null),
  };
}

export type SubmittedConfig = ReturnType<typeof AppliedSubmitConfig.parse> & { entrypoint: string };

/** POST /jobs' `config` field: upstream's keys checked (others ignored, null ones unset); the entrypoint defaults to main. */
export function submittedConfig(text: string | undefined): SubmittedConfig {
  const parsed = parseJson('config', text, {});
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw badRequest("Invalid 'config': expected a JSON object");
  }
  // Null values mean "not set", as upstream.
  const set = Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== null));
  const checked = checkedConfig(set);
  return { ...checked, entrypoint: checked.entrypoint ?? 'main' };
}

function checkedConfig(values: Record<string, unknown>, from = ''): ReturnType<typeof AppliedSubmitConfig.parse> {
  const checked = AppliedSubmitConfig.safeParse(values);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const key = issue.path.join('.') || 'config';
    throw badRequest(`Invalid ${key} '${JSON.stringify(values[key])}'${from}: ${issue.message}`);
  }
  return checked.data;
}
