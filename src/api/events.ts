// GET /jobs/{id}/events: a job as Server-Sent Events — its status and progress with the current
// step, each new step, each log line, its sub-task counts, and the end with its result — until it
// ends. Each event's id is a cursor (log bytes sent, steps sent, events sent): a client that
// reconnects with Last-Event-ID gets what came after it, not the log again.
import fsp from 'node:fs/promises';
import type { Request, Response } from 'express';
import { isFinished } from '../shared/job-status';
import { logFile } from '../shared/share';
import type { JobMemo } from '../shared/types';
import { notFound } from './errors';
import { describeJob, readJob, type JobDetails, type JobSource } from './job-state';

/** How often the job is read while it runs. */
export const EVENTS_POLL_MS = 250;
/** A comment line this often keeps proxies from closing a quiet stream. */
export const EVENTS_HEARTBEAT_MS = 15_000;
/** At most this much of a log is sent in one read (a huge log streams in pieces). */
const LOG_CHUNK_BYTES = 256 * 1024;

interface Cursor {
  /** Bytes of the log sent (whole lines only). */
  log: number;
  /** Steps sent. */
  steps: number;
  /** Events sent. */
  n: number;
}

function parseCursor(header: string | undefined): Cursor {
  const m = /^(\d+)-(\d+)-(\d+)$/.exec(header ?? '');
  return m ? { log: Number(m[1]), steps: Number(m[2]), n: Number(m[3]) } : { log: 0, steps: 0, n: 0 };
}

/** The JSON of each event type. */
export type JobEvent =
  | { type: 'status'; data: { status: string; progress: number | null; step: string | null; retry: number; waiting?: JobDetails['waiting'] } }
  | { type: 'step'; data: { index: number; info: string; duration: number | null } }
  | { type: 'log'; data: { line: string } }
  | { type: 'children'; data: { started: number; done: number; failed: number } }
  | { type: 'end'; data: { status: string; progress: number | null; error: string | null; result: unknown } };

export async function streamEvents(jobs: Required<JobSource>, id: string, req: Request, res: Response): Promise<void> {
  // Known to Temporal, or remembered by its state.json: else 404 before the stream starts.
  const desc = await describeJob(jobs, id);
  let details: JobDetails;
  try {
    details = await readJob(jobs, id);
  } catch {
    throw notFound(`Job '${id}' does not exist`);
  }
  const shareOf = ((desc?.memo ?? {}) as Partial<JobMemo>).shareOf ?? null;
  const log = logFile(jobs.sharePath, id, shareOf);
  const cursor = parseCursor(req.get('last-event-id'));

  res.status(200).set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  res.flushHeaders();
  let gone = false;
  req.on('close', () => (gone = true));
  const send = (event: JobEvent) => {
    cursor.n += 1;
    res.write(`id: ${cursor.log}-${cursor.steps}-${cursor.n}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`);
  };

  let lastStatus = '';
  let lastChildren = '';
  let lastBeat = Date.now();
  const sendLog = async () => {
    for (;;) {
      const handle = await fsp.open(log, 'r').catch(() => null);
      if (!handle) return;
      let text: string;
      try {
        const buf = Buffer.alloc(LOG_CHUNK_BYTES);
        const { bytesRead } = await handle.read(buf, 0, LOG_CHUNK_BYTES, cursor.log);
        text = buf.subarray(0, bytesRead).toString('utf8');
      } finally {
        await handle.close();
      }
      const end = text.lastIndexOf('\n');
      if (end < 0) return; // no whole line yet
      for (const line of text.slice(0, end).split('\n')) {
        cursor.log += Buffer.byteLength(line, 'utf8') + 1;
        send({ type: 'log', data: { line } });
      }
      if (text.length < LOG_CHUNK_BYTES) return;
    }
  };
  const sendState = (d: JobDetails) => {
    const steps = d.steps ?? [];
    const current = steps.at(-1)?.info ?? null;
    const status = JSON.stringify([d.status, d.progress, current, d.retry, d.waiting]);
    if (status !== lastStatus) {
      lastStatus = status;
      send({ type: 'status', data: { status: d.status, progress: d.progress, step: current, retry: d.retry, ...(d.waiting ? { waiting: d.waiting } : {}) } });
    }
    // A step is sent once it is done (its duration known: -1 while it runs), or when the job ended.
    const done = isFinished(d.status) ? steps.length : steps.filter((s) => s.duration >= 0).length;
    for (; cursor.steps < done; cursor.steps++) {
      const step = steps[cursor.steps]!;
      send({ type: 'step', data: { index: cursor.steps, info: step.info, duration: step.duration >= 0 ? step.duration : null } });
    }
    if (d.children) {
      const children = JSON.stringify(d.children);
      if (children !== lastChildren) {
        lastChildren = children;
        send({ type: 'children', data: d.children });
      }
    }
  };

  for (;;) {
    sendState(details);
    await sendLog();
    if (isFinished(details.status)) {
      send({ type: 'end', data: { status: details.status, progress: details.progress, error: details.error, result: details.result } });
      break;
    }
    await new Promise((r) => setTimeout(r, EVENTS_POLL_MS));
    if (gone) return;
    if (Date.now() - lastBeat >= EVENTS_HEARTBEAT_MS) {
      lastBeat = Date.now();
      res.write(': keep-alive\n\n');
    }
    try {
      details = await readJob(jobs, id);
    } catch (err) {
      // Temporal away for a moment: say so as a comment, and keep trying while the client waits.
      res.write(`: ${(err as Error).message.split('\n')[0]}\n\n`);
    }
  }
  res.end();
}
