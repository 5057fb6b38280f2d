// The `pixyz` command line's side of the HTTP API: where it is, its key, requests that stream
// uploads and downloads with their progress, and the job event stream.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { REPO_ROOT } from '../shared/config';
import { takeEvents } from '../shared/sse';

export const DEFAULT_URL = 'http://127.0.0.1:8001';

/** A failure a user is told about in one line (exit code 1 unless given). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface Server {
  url: string;
  key: string | undefined;
}

/**
 * The API's URL and key: flags first, then PIXYZ_URL / PIXYZ_API_KEY, then the key `npm start`
 * generated in this checkout (.temporal/api-key), as on the machine running it.
 */
export function resolveServer(flags: { url?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): Server {
  const url = (flags.url || env.PIXYZ_URL || DEFAULT_URL).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(url)) throw new CliError(`Invalid URL '${url}': give http://host:port`);
  let key = flags.token || env.PIXYZ_API_KEY;
  if (!key) {
    const file = env.API_KEY_FILE ?? path.join(REPO_ROOT, '.temporal', 'api-key');
    if (fs.existsSync(file)) key = fs.readFileSync(file, 'utf8').trim();
  }
  return { url, key };
}

/** What an error body of the API says (upstream's shapes: a string or {code, message, details}). */
function detailOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { detail?: unknown };
    const d = parsed.detail;
    // Upstream's error class names ("SharePathNotFoundError: …") are the server's business.
    const plain = (text: string) => text.replace(/^[A-Z][A-Za-z]+Error: /, '');
    if (typeof d === 'string') return plain(d);
    if (d && typeof d === 'object' && 'details' in d) return plain(String((d as { details: unknown }).details));
    return body;
  } catch {
    return body.slice(0, 300);
  }
}

export class Api {
  constructor(readonly server: Server) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.server.key ? { 'x-api-key': this.server.key } : {}), ...extra };
  }

  async fetch(pathname: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.server.url}${pathname}`, { ...init, headers: this.headers(init.headers as Record<string, string>) });
    } catch (err) {
      const why = (err as { cause?: { code?: string; message?: string } }).cause;
      const cause = why?.code ?? why?.message ?? (err as Error).message;
      throw new CliError(`Cannot reach the API at ${this.server.url} (${cause}): is it running? (set --url or PIXYZ_URL)`);
    }
    if (res.status === 401) throw new CliError(`${detailOf(await res.text())} (give it with -t or PIXYZ_API_KEY)`);
    return res;
  }

  /** A JSON answer; a 4xx/5xx becomes a CliError with the API's own words. */
  async json<T = any>(pathname: string, init: RequestInit = {}): Promise<T> {
    const res = await this.fetch(pathname, init);
    const text = await res.text();
    if (!res.ok) throw new CliError(`${res.status}: ${detailOf(text)}`);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(`${this.server.url} answered something that is not the Pixyz Scheduler API (${res.headers.get('content-type') ?? 'no content type'}): check --url or PIXYZ_URL`);
    }
  }

  /** POST /jobs as a streamed multipart upload; `onProgress(sent, total)` as the bytes go. */
  submit(fields: Record<string, string | undefined>, files: Record<string, string | undefined>, onProgress: (sent: number, total: number) => void = () => {}): Promise<any> {
    const boundary = `pixyz-${randomBytes(12).toString('hex')}`;
    const parts: (Buffer | { file: string; size: number })[] = [];
    for (const [name, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
    }
    for (const [name, file] of Object.entries(files)) {
      if (file === undefined) continue;
      let size: number;
      try {
        size = fs.statSync(file).size;
      } catch {
        throw new CliError(`Cannot read '${file}': no such file`);
      }
      const filename = path.basename(file).replace(/"/g, '');
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
      parts.push({ file, size });
      parts.push(Buffer.from('\r\n'));
    }
    parts.push(Buffer.from(`--${boundary}--\r\n`));
    const total = parts.reduce((n, p) => n + (Buffer.isBuffer(p) ? p.length : p.size), 0);
    const url = new URL(`${this.server.url}/jobs`);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(url, { method: 'POST', headers: this.headers({ 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(total) }) }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          if (res.statusCode === 200) resolve(JSON.parse(body));
          else if (res.statusCode === 401) reject(new CliError(`${detailOf(body)} (give it with -t or PIXYZ_API_KEY)`));
          else reject(new CliError(`${res.statusCode}: ${detailOf(body)}`));
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => reject(new CliError(`Cannot reach the API at ${this.server.url} (${err.code ?? err.message}): is it running?`)));
      let sent = 0;
      const write = async () => {
        for (const part of parts) {
          if (Buffer.isBuffer(part)) {
            if (!req.write(part)) await new Promise((r) => req.once('drain', r));
            sent += part.length;
          } else {
            for await (const chunk of fs.createReadStream(part.file, { highWaterMark: 256 * 1024 })) {
              if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
              sent += (chunk as Buffer).length;
              onProgress(sent, total);
            }
          }
        }
        onProgress(total, total);
        req.end();
      };
      write().catch((err: Error) => req.destroy(err));
    });
  }

  /** Downloads `pathname` to `dest`; `onProgress(received, total|null)`; resolves with the bytes written. */
  async download(pathname: string, dest: string, onProgress: (got: number, total: number | null) => void = () => {}): Promise<number> {
    const res = await this.fetch(pathname);
    if (!res.ok) throw Object.assign(new CliError(`${res.status}: ${detailOf(await res.text())}`), { status: res.status });
    const total = Number(res.headers.get('content-length')) || null;
    fs.mkdirSync(path.dirname(path.resolve(dest)), { recursive: true });
    const partial = `${dest}.part`;
    let got = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _enc, done) {
        got += chunk.length;
        onProgress(got, total);
        done(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body as never), counted, fs.createWriteStream(partial));
      fs.renameSync(partial, dest); // never a half file under the name asked for
    } catch (err) {
      fs.rmSync(partial, { force: true });
      const e = err as NodeJS.ErrnoException;
      throw new CliError(`Download of ${pathname} to '${dest}' failed: ${e.code ? `${e.code} ` : ''}${e.message}`);
    }
    return got;
  }

  /** The job's events (GET /jobs/{id}/events) until it ends; reconnects after a dropped connection. */
  async *events(jobId: string, signal?: AbortSignal): AsyncGenerator<{ event: string; data: any }> {
    let lastId: string | undefined;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.fetch(`/jobs/${jobId}/events`, { headers: lastId ? { 'last-event-id': lastId } : {}, signal });
      } catch (err) {
        // A refused key is said at once; an API away is tried again for ~10 s.
        if (signal?.aborted || attempt >= 10 || (err instanceof CliError && !/Cannot reach/.test(err.message))) throw err;
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (!res.ok) throw new CliError(`${res.status}: ${detailOf(await res.text())}`);
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          const { events, rest } = takeEvents(buffer + decoder.decode(chunk, { stream: true }));
          buffer = rest;
          for (const { id, event, data } of events) {
            lastId = id ?? lastId;
            if (!event || data === undefined) continue;
            yield { event, data: JSON.parse(data) };
            if (event === 'end') return;
          }
        }
      } catch (err) {
        if (signal?.aborted) throw err;
      }
      // The stream closed before the end (a proxy, an API restart): resume after the last event.
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)}${units[i]}`;
}
