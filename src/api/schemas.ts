// The API's bodies as zod schemas: they validate requests at run time, and the OpenAPI document
// (src/api/openapi.ts) is generated from them, so the spec and the code cannot drift.
import { z } from 'zod';
import { LISTED_STATUSES } from '../shared/job-status';
import { UUID_PATTERN } from '../shared/share';

export const JobStatus = z.enum(['SENT', 'PENDING', 'STARTED', 'RUNNING', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED']);

export const JobState = z
  .object({
    uuid: z.string().regex(UUID_PATTERN),
    name: z.string().nullable(),
    status: JobStatus,
    progress: z.number().int().min(0).max(100).nullable(),
    error: z.string().nullable(),
  })
  .meta({ id: 'JobState', description: "A job's state (upstream's JobState)." });

export const ListedJob = JobState.extend({
  process: z.string().nullable().describe("beyond upstream: the process it runs, or the name of the script uploaded for it"),
  time_request: z.string().nullable().describe('beyond upstream: when it was submitted (UTC, as time_info.request)'),
}).meta({ id: 'ListedJob', description: 'A job as the list shows it: its state, its process and when it was submitted.' });

const Step = z.object({ info: z.string(), duration: z.number().describe('seconds; -1 while the step runs') });

export const JobDetails = JobState.extend({
  time_info: z.object({ request: z.string().nullable(), started: z.string().nullable(), stopped: z.string().nullable() }),
  steps: z.array(Step).nullable(),
  retry: z.number().int().min(0),
  result: z.unknown().describe("the script's return value when SUCCESS, the stack when FAILURE, {} while it runs"),
  children: z.object({ started: z.number().int(), done: z.number().int(), failed: z.number().int() }).optional(),
  waiting: z
    .object({ queue: z.string(), backlog: z.number().int(), workers: z.number().int() })
    .optional()
    .describe('a PENDING job: the task queue its script waits in, the tasks waiting there, the workers polling it'),
}).meta({ id: 'JobDetails', description: "A job's details (upstream's JobDetails; `children` and `waiting` beyond upstream)." });

export const JobList = z
  .object({ jobs: z.array(ListedJob), next: z.string().nullable().describe('token of the next page, or null') })
  .meta({ id: 'JobList' });

export const Deleted = JobState.extend({ deleted: z.boolean() }).meta({ id: 'DeletedJob' });

export const Outputs = z
  .object({
    outputs: z.array(z.string()),
    files: z.array(z.object({ name: z.string(), bytes: z.number().int().nullable().describe('null for a folder') })).describe('beyond upstream: the same entries with their sizes'),
  })
  .meta({ id: 'Outputs' });

export const SubmittedJob = z
  .object({
    process: z.string().describe("a predefined process, or 'custom' for an uploaded script"),
    script: z.string().describe("the uploaded script's name, or the process's script file"),
    entrypoint: z.string(),
    params: z.unknown(),
    name: z.string().nullable(),
    file: z.string().nullable().describe('the uploaded model or archive'),
    root_file: z.string().nullable(),
    queue: z.string(),
    time_limit: z.number().describe('seconds'),
    compute_only: z.boolean(),
    time_request: z.string().describe('when it was submitted (UTC)'),
    parent_id: z.string().nullable().describe('the job that spawned it, for a sub-task'),
  })
  .meta({ id: 'SubmittedJob', description: 'What a job was submitted with (beyond upstream).' });
export const Probe = z
  .object({ status: z.enum(['alive', 'ready', 'not ready']), detail: z.string().optional().describe('what was checked, or why not ready') })
  .meta({ id: 'Probe' });
export const Processes = z.object({ processes: z.array(z.string()) }).meta({ id: 'Processes' });
const ParamSpec = z.object({
  type: z.enum(['string', 'number', 'integer', 'boolean']),
  description: z.string().optional(),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  enum: z.array(z.union([z.string(), z.number()])).optional(),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
  exclusiveMinimum: z.number().optional(),
});
export const ProcessDoc = z
  .object({
    doc: z.string(),
    params: z
      .object({ type: z.literal('object'), properties: z.record(z.string(), ParamSpec) })
      .optional()
      .describe('beyond upstream: the params the process declares (pixyzSchedule `params`), as a JSON Schema; submissions that break it are refused'),
  })
  .meta({ id: 'ProcessDoc' });

export const ErrorBody = z
  .object({ detail: z.object({ code: z.number().int(), message: z.string(), details: z.string() }) })
  .meta({ id: 'Error', description: "upstream's error body" });
export const AuthError = z.object({ detail: z.string().startsWith('Invalid token').describe("upstream's 'Invalid token', and where the key is") }).meta({ id: 'AuthError' });

export const TaskMeta = z
  .object({
    status: z.string(),
    result: z.unknown(),
    traceback: z.string().nullable(),
    children: z.array(z.string()),
    parent_id: z.string().nullable(),
    task_id: z.string(),
    date_done: z.string().nullable(),
  })
  .meta({ id: 'TaskMeta', description: "upstream's raw Celery meta" });

const MAX_TIME_LIMIT_SECONDS = 7 * 86400;
const TIME_LIMIT_RANGE = `a number of seconds above 0, at most ${MAX_TIME_LIMIT_SECONDS}`;
const RETRIES_RANGE = 'a whole number from 0 to 10';

/**
 * POST /jobs `config`: upstream's keys, as the OpenAPI document states them (strict). What the API
 * applies is AppliedSubmitConfig, which ignores other keys; null ones mean unset.
 */
export const SubmitConfig = z
  .object({
    entrypoint: z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, 'expected a function name').optional(),
    queue: z.string().optional(),
    time_limit: z.number().positive(TIME_LIMIT_RANGE).max(MAX_TIME_LIMIT_SECONDS, TIME_LIMIT_RANGE).optional(),
    root_file: z.string().min(1, 'expected a file name').optional(),
    compute_only: z.boolean('expected true or false').optional(),
    retries: z.number(RETRIES_RANGE).int(RETRIES_RANGE).min(0, RETRIES_RANGE).max(10, RETRIES_RANGE).optional(),
  })
  .strict()
  .meta({ id: 'SubmitConfig' });

/**
 * What POST /jobs applies: SubmitConfig with other keys dropped, as upstream ignores them. Built
 * once: zod compiles a schema on its first use, which a new `.strip()` per request would repeat.
 */
export const AppliedSubmitConfig = SubmitConfig.strip();

export const SubmitForm = z
  .object({
    process: z.string().default('custom').describe('`custom` (with `script`) or a predefined process'),
    script: z.string().describe('the job script (.ts, .js, .mjs…, or .py); binary').optional(),
    file: z.string().describe('a model file, or a .zip / .tar.gz of several; binary').optional(),
    params: z.string().describe('JSON text handed to the entrypoint; default {}').optional(),
    name: z.string().max(255).optional(),
    config: z.string().describe('JSON text of a SubmitConfig object').optional(),
  })
  .meta({ id: 'SubmitForm' });

/** The most jobs GET /jobs returns in one page. */
export const MAX_PAGE = 500;

/** A text a visibility query can hold: Temporal's SQL visibility store fails on a NUL character. */
// eslint-disable-next-line no-control-regex -- NUL is what is refused
const FilterText = z.string().regex(/^[^\u0000]*$/, 'a NUL character is not accepted');

export const ListQuery = z.object({
  status: z.enum(LISTED_STATUSES).optional(),
  name: FilterText.optional().describe('jobs whose name starts with this'),
  process: FilterText.optional().describe('jobs whose process (or script name) starts with this'),
  all: z.enum(['true', 'false']).optional().describe('include sub-tasks'),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).optional(),
  next: z.string().optional(),
});
