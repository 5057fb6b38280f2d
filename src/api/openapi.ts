// GET /openapi.json (OpenAPI 3.1), generated from the zod schemas the API validates with.
import { z } from 'zod';
import { API_VERSION } from './version';
import * as S from './schemas';

type Schema = z.ZodType;

const OPTIONS = { target: 'draft-2020-12', unrepresentable: 'any', io: 'output' } as const;
const ref = (id: string) => `#/components/schemas/${id}`;

/** JSON Schema (2020-12, as OpenAPI 3.1 uses) of a zod schema: a $ref when it is a named one. */
function schema(s: Schema): unknown {
  const { id } = (z.globalRegistry.get(s) ?? {}) as { id?: string };
  if (id) return { $ref: ref(id) };
  const json = z.toJSONSchema(s, OPTIONS) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

/** Every named schema (`.meta({ id })`), each once, referring to the others by $ref. */
function components(): Record<string, unknown> {
  const { schemas } = z.toJSONSchema(z.globalRegistry, { ...OPTIONS, uri: ref }) as { schemas: Record<string, Record<string, unknown>> };
  for (const s of Object.values(schemas)) {
    delete s.$schema;
    delete s.$id; // a component is named by its key; a fragment $id is not valid JSON Schema
  }
  return schemas;
}

const json = (s: Schema, description: string) => ({ description, content: { 'application/json': { schema: schema(s) } } });
const error = (description: string) => json(S.ErrorBody, description);
const unauthorized = { 401: json(S.AuthError, 'missing or wrong x-api-key') };
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const secured = [{ apiKey: [] }];

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, unknown> = {
    '/': { get: { summary: 'Welcome text', responses: { 200: { description: 'text', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
    '/processes': { get: { summary: 'Predefined processes', responses: { 200: json(S.Processes, 'their names') } } },
    '/processes/{name}': {
      get: {
        summary: "A process's documentation",
        parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: json(S.ProcessDoc, 'its doc comment'), 400: error('no such process') },
      },
    },
    '/jobs': {
      get: {
        summary: 'Jobs, from Temporal’s visibility store: running first, then most recently ended',
        security: secured,
        parameters: Object.entries((S.ListQuery as z.ZodObject).shape).map(([name, s]) => ({ name, in: 'query', required: false, schema: schema(s as Schema) })),
        responses: { 200: json(S.JobList, 'a page of jobs'), 400: error('a bad filter'), ...unauthorized },
      },
      post: {
        summary: 'Submit a job',
        security: secured,
        requestBody: { required: true, content: { 'multipart/form-data': { schema: schema(S.SubmitForm), encoding: { script: { contentType: 'application/octet-stream' }, file: { contentType: 'application/octet-stream' } } } } },
        responses: { 200: json(S.JobState, 'accepted: status SENT'), 400: error('refused'), 413: error('over MAX_UPLOAD_BYTES'), 503: error('Temporal unreachable'), ...unauthorized },
      },
    },
    '/jobs/{id}': {
      get: { summary: 'A job’s state', security: secured, parameters: [idParam], responses: { 200: json(S.JobState, 'state'), 400: error('not a UUID'), 404: error('unknown job'), ...unauthorized } },
      delete: { summary: 'Cancel a job if it runs, then remove its directory', security: secured, parameters: [idParam], responses: { 200: json(S.Deleted, 'its last state'), 404: error('unknown job'), ...unauthorized } },
    },
    '/jobs/{id}/details': { get: { summary: 'A job’s details', security: secured, parameters: [idParam], responses: { 200: json(S.JobDetails, 'details'), 404: error('unknown job'), ...unauthorized } } },
    '/jobs/{id}/cancel': { post: { summary: 'Cancel a job and its sub-tasks', security: secured, parameters: [idParam], responses: { 200: json(S.JobState, 'its state after the cancel'), 404: error('unknown job'), ...unauthorized } } },
    '/jobs/{id}/logs': {
      get: {
        summary: 'The script’s stdout and stderr',
        security: secured,
        parameters: [idParam, { name: 'follow', in: 'query', schema: { type: 'boolean' }, description: 'stream until the job ends' }],
        responses: { 200: { description: 'text', content: { 'text/plain': { schema: { type: 'string' } } } }, 404: error('unknown job'), ...unauthorized },
      },
    },
    '/jobs/{id}/input': {
      get: {
        summary: 'What the job was submitted with (beyond upstream): process or script, entrypoint, params, name, file, queue, time limit',
        security: secured,
        parameters: [idParam],
        responses: { 200: json(S.SubmittedJob, 'its submission'), 404: error('unknown job, or one Temporal has forgotten'), ...unauthorized },
      },
    },
    '/jobs/{id}/rerun': {
      post: {
        summary: 'The same job again, as a new job (beyond upstream): its process or script, params, options, name and a copy of its inputs',
        security: secured,
        parameters: [idParam],
        responses: { 200: json(S.JobState, 'the new job, SENT'), 400: error('a sub-task (run its parent again)'), 404: error('unknown job, or one Temporal has forgotten'), ...unauthorized },
      },
    },
    '/jobs/{id}/events': {
      get: {
        summary: 'The job as Server-Sent Events until it ends (beyond upstream)',
        description:
          'Events: `status` {status, progress, step, retry} on each change; `step` {index, info, duration} as each step is done; `log` {line} for each line of the script’s output; `children` {started, done, failed} as sub-tasks start and end; `end` {status, progress, error, result}, then the stream closes. A comment every 15 s keeps it open. Each event id is a cursor: reconnect with `Last-Event-ID` to get what came after it.',
        security: secured,
        parameters: [idParam, { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' }, description: 'the id of the last event received' }],
        responses: { 200: { description: 'an event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, 404: error('unknown job'), ...unauthorized },
      },
    },
    '/jobs/{id}/outputs': { get: { summary: 'Names in the job’s outputs/', security: secured, parameters: [idParam], responses: { 200: json(S.Outputs, 'names'), ...unauthorized } } },
    '/jobs/{id}/outputs/archive': {
      get: {
        summary: 'A zip of the job’s outputs',
        security: secured,
        parameters: [idParam],
        responses: { 200: { description: 'zip', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } }, 404: error('no such job or archive'), 425: error('the job is not finished'), ...unauthorized },
      },
    },
    '/jobs/{id}/outputs/{file_path}': {
      get: {
        summary: 'One output file (Range supported)',
        security: secured,
        parameters: [idParam, { name: 'file_path', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: { description: 'the file', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } }, 206: { description: 'a range' }, 400: error('a path leaving outputs/'), 404: error('no such file'), ...unauthorized },
      },
    },
    '/backend/get_task_meta/{id}': { get: { summary: 'Upstream’s raw task meta', security: secured, parameters: [idParam], responses: { 200: json(S.TaskMeta, 'meta'), ...unauthorized } } },
    '/dev/callback': { post: { summary: 'Logs a JSON object (upstream’s test hook)', requestBody: { content: { 'application/json': { schema: { type: 'object' } } } }, responses: { 200: { description: 'null', content: { 'application/json': { schema: { type: 'null' } } } } } } },
    '/livez': { get: { summary: 'Liveness probe: the API process answers', responses: { 200: json(S.Probe, '{"status":"alive"}') } } },
    '/readyz': { get: { summary: 'Readiness probe: Temporal answers the API', responses: { 200: json(S.Probe, 'ready'), 503: json(S.Probe, 'not ready, and why') } } },
    '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
  };
  return {
    openapi: '3.1.0',
    info: { title: 'PiXYZ API', version: API_VERSION, description: 'Pixyz Scheduler on Temporal: the upstream Pixyz Scheduler API and more.' },
    paths,
    components: {
      schemas: components(),
      securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'the plaintext key whose SHA-256 is GOD_PASSWORD_SHA256' } },
    },
  };
}

