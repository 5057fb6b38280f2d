// POST /jobs' body: a multipart upload streamed to the new job's inputs/ (never whole in memory),
// with its limits, its refusals and what a client that goes away or stalls leaves (nothing).
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { Request } from 'express';
import { badRequest, HttpError } from './errors';

const FILE_PARTS = ['script', 'file'] as const;
type FilePart = (typeof FILE_PARTS)[number];
/** The largest text field (params, config) a submission may hold. */
export const MAX_FIELD_BYTES = 1024 * 1024;
const MAX_SCRIPT_BYTES = 5 * 1024 * 1024;

export interface Upload {
  fields: Record<string, string>;
  files: Partial<Record<FilePart, { name: string; path: string; bytes: number }>>;
  /** The script part's bytes too (≤ MAX_SCRIPT_BYTES): its options are read without reading the file back. */
  scriptSource?: Buffer;
}

export class ClientGone extends Error {}

/** A safe file name from a client's: its last path segment, without control characters. */
export function safeBasename(name: string | undefined): string | null {
  if (!name) return null;
  // eslint-disable-next-line no-control-regex -- control characters are what we strip
  const base = name.split(/[\\/]/).pop()!.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  if (!base || base === '.' || base === '..') return null;
  return base.slice(0, 255);
}

/** An upload that sends no byte for this long is dropped (its directory removed). */
export const UPLOAD_IDLE_MS = 120_000;
let uploadIdleMs = UPLOAD_IDLE_MS;
/** For tests: a shorter wait. */
export function setUploadIdleMs(ms: number): void {
  uploadIdleMs = ms;
}

/** Streams the multipart body: file parts straight to `inputsDir`, never whole in memory. */
export function receiveUpload(req: Request, inputsDir: string, maxBytes: number): Promise<Upload> {
  return new Promise((resolve, reject) => {
    const upload: Upload = { fields: {}, files: {} };
    const writes: Promise<void>[] = [];
    const streams: { part: NodeJS.ReadableStream & { destroy(): void }; file: fs.WriteStream }[] = [];
    const scriptParts: { destroy(): void }[] = [];
    let failed = false;
    let total = 0; // all file parts together: MAX_UPLOAD_BYTES is for the whole upload
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      req.unpipe();
      req.resume(); // drain what the client still sends, so it can read our answer
      // Close every file being written before the caller removes the job directory: an open
      // handle would keep a deleted file's blocks allocated.
      for (const part of scriptParts) part.destroy();
      for (const { part, file } of streams) {
        part.destroy();
        file.destroy();
      }
      void Promise.allSettled(writes).then(() => reject(err));
    };
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        limits: { fileSize: maxBytes, fieldSize: MAX_FIELD_BYTES, fields: 32, files: 8 },
        // File names as clients send them today (UTF-8), not busboy's latin1 default.
        defParamCharset: 'utf8',
      });
    } catch (err) {
      return reject(badRequest(`Expected a multipart/form-data body: ${(err as Error).message}`));
    }
    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(badRequest(`The field '${name}' is over ${MAX_FIELD_BYTES} bytes`));
      else upload.fields[name] = value;
    });
    bb.on('file', (name, stream, info) => {
      const base = safeBasename(info.filename);
      if (failed || !(FILE_PARTS as readonly string[]).includes(name) || !base) {
        stream.resume(); // empty parts count as absent, as upstream
        return;
      }
      const part = name as FilePart;
      const other = FILE_PARTS.find((p) => p !== part && upload.files[p]?.name === base);
      if (other) {
        stream.resume();
        return fail(badRequest(`The 'script' and 'file' parts must have different names ('${base}')`));
      }
      const dest = path.join(inputsDir, base);
      const entry = { name: base, path: dest, bytes: 0 };
      upload.files[part] = entry;
      stream.on('limit', () => fail(new HttpError(413, `The upload is over ${maxBytes} bytes (MAX_UPLOAD_BYTES)`)));
      const count = (chunk: Buffer) => {
        entry.bytes += chunk.length;
        total += chunk.length;
        if (total > maxBytes) fail(new HttpError(413, `The upload is over ${maxBytes} bytes (MAX_UPLOAD_BYTES)`));
        if (part === 'script' && entry.bytes > MAX_SCRIPT_BYTES) fail(badRequest(`The script is over ${MAX_SCRIPT_BYTES} bytes`));
      };
      let written: Promise<unknown>;
      if (part === 'script') {
        // A script is small (MAX_SCRIPT_BYTES): kept in memory, its options are read from it, and
        // it is written in one call.
        const chunks: Buffer[] = [];
        scriptParts.push(stream);
        stream.on('data', (chunk: Buffer) => {
          count(chunk);
          if (!failed) chunks.push(chunk);
        });
        written = new Promise<void>((resolve, reject) => {
          stream.on('end', resolve);
          stream.on('close', resolve); // destroyed by a refusal: nothing to write
          stream.on('error', reject);
        }).then(() => {
          if (failed) return;
          upload.scriptSource = Buffer.concat(chunks);
          fs.writeFileSync(dest, upload.scriptSource, { mode: 0o644 });
        });
      } else {
        const file = fs.createWriteStream(dest, { mode: 0o644 });
        streams.push({ part: stream, file });
        stream.on('data', count);
        written = pipeline(stream, file);
      }
      writes.push(written.then(() => {}).catch((err) => fail(err as Error)));
    });
    bb.on('error', (err) => fail(badRequest(`Malformed multipart body: ${(err as Error).message}`)));
    bb.on('close', () => {
      void Promise.all(writes).then(() => {
        if (!failed) resolve(upload);
      });
    });
    req.on('close', () => {
      if (!req.complete) fail(new ClientGone('client disconnected during the upload'));
    });
    // However long an upload takes (a model may be gigabytes on a slow link), but not one that
    // stalls: its connection is dropped, as a client gone.
    // The connection outlives the request (keep-alive): its timer and listener go with the body.
    const socket = req.socket;
    const stalled = () => req.destroy();
    socket.setTimeout(uploadIdleMs, stalled);
    const settled = () => {
      socket.setTimeout(0);
      socket.off('timeout', stalled);
    };
    bb.on('close', settled);
    req.on('close', settled);
    req.pipe(bb);
  });
}
