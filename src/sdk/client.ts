// pixyzExecute: start a job from TypeScript code outside a script, over the HTTP API, and get
// an AsyncResult for it (upstream's pixyz_execute task, called from a client).
import fs from 'node:fs';
import path from 'node:path';
import type { Canvas, SpawnOutput } from '../shared/types';
import { AsyncResult } from './async-result';
import type { Backend } from './backend';
import { SubTaskFailed } from './errors';

export interface PixyzExecuteOptions {
  /** The API; default PIXYZ_API_URL or http://127.0.0.1:8001. */
  url?: string;
  /** The plaintext API key; default PIXYZ_API_KEY. */
  apiKey?: string;
  /** A script file to run (process `custom`)… */
  script?: string;
  /** …or a predefined process by name. */
  process?: string;
  /** A model file or zip to upload. */
  file?: string;
  params?: unknown;
  name?: string;
  /** Upstream's `config` (entrypoint, queue, time_limit, root_file, compute_only), and `retries`. */
  config?: Record<string, unknown>;
  /** How often get() polls the job; default 500 ms. */
  pollIntervalMs?: number;
}

interface Details {
  status: string;
  error: string | null;
  result: unknown;
}

/** Reads jobs over HTTP: what AsyncResult asks of a job started by pixyzExecute. */
class HttpBackend implements Backend {
  readonly jobId = null;

  constructor(
    private readonly url: string,
    private readonly apiKey: string,
    private readonly pollMs: number,
  ) {}

  private async details(id: string): Promise<Details> {
    const res = await fetch(`${this.url}/jobs/${id}/details`, { headers: { 'x-api-key': this.apiKey } });
    if (!res.ok) throw new Error(`GET /jobs/${id}/details: ${res.status} ${await res.text()}`);
    return (await res.json()) as Details;
  }

  async spawn(_canvas: Canvas): Promise<SpawnOutput> {
    throw new Error('a job started with pixyzExecute starts its own sub-tasks');
  }

  async join(id: string, _kind: 'task' | 'canvas', timeoutMs: number | null): Promise<unknown> {
    const deadline = timeoutMs === null ? Infinity : Date.now() + timeoutMs;
    for (;;) {
      const d = await this.details(id);
      if (d.status === 'SUCCESS') return d.result;
      if (d.status === 'FAILURE') throw new SubTaskFailed(d.error ?? 'the job failed', 'ScriptFailed', id);
      if (d.status === 'REVOKED') throw new SubTaskFailed(`job ${id} was cancelled`, 'Cancelled', id);
      if (Date.now() >= deadline) throw new SubTaskFailed(`job ${id} did not finish within ${timeoutMs! / 1000} s`, 'TimeoutError', id);
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  async status(id: string): Promise<string> {
    return (await this.details(id)).status;
  }
}

async function filePart(file: string): Promise<[Blob, string]> {
  return [await fs.openAsBlob(file), path.basename(file)];
}

/** Submits a job (POST /jobs) and returns its AsyncResult: `await (await pixyzExecute(…)).get()`. */
export async function pixyzExecute<T = unknown>(options: PixyzExecuteOptions): Promise<AsyncResult<T>> {
  const url = (options.url ?? process.env.PIXYZ_API_URL ?? 'http://127.0.0.1:8001').replace(/\/+$/, '');
  const apiKey = options.apiKey ?? process.env.PIXYZ_API_KEY ?? '';
  const form = new FormData();
  form.set('process', options.process ?? 'custom');
  if (options.script) form.set('script', ...(await filePart(options.script)));
  if (options.file) form.set('file', ...(await filePart(options.file)));
  form.set('params', JSON.stringify(options.params ?? {}));
  if (options.name) form.set('name', options.name);
  if (options.config) form.set('config', JSON.stringify(options.config));
  const res = await fetch(`${url}/jobs`, { method: 'POST', body: form, headers: { 'x-api-key': apiKey } });
  const body = (await res.json().catch(() => null)) as { uuid?: string; detail?: unknown } | null;
  if (!res.ok || !body?.uuid) {
    const detail = body?.detail as { details?: string } | string | undefined;
    throw new Error(`POST /jobs: ${res.status} ${typeof detail === 'string' ? detail : (detail?.details ?? '')}`.trim());
  }
  return new AsyncResult<T>(body.uuid, 'task', Promise.resolve(), () => {}, new HttpBackend(url, apiKey, options.pollIntervalMs ?? 500));
}
