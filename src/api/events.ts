// GET /jobs/{id}/events: a job as Server-Sent Events — its status and progress with the current
// step, each new step, each log line, its sub-task counts, and the end with its result — until it
// ends. Each event's id is a cursor (log bytes sent, steps sent, events sent): a client that
// reconnects with Last-Event-ID gets what came after it, not the log again.
import fsp from 'node:fs/promises';
import type { Request, Response } from 'express';
import { isFinished } from '../shared/job-status';
import { logFile } from '../shared/share';
import type { JobMemo, JobResult } from '../shared/types';
import { notFound, temporalUnreachable } from './errors';
import { baseOf, describeJob, JobNotFoundError, readJob, successDetails, type JobDetails, type JobSource } from './job-state';

/** How often the job is read while it runs (its end is seen at once: see waitForClose). */
export const EVENTS_POLL_MS = 250;
let pollMs = EVENTS_POLL_MS;
/** For tests: another interval between reads. */
export function setEventsPollMs(ms: number): void {
  pollMs = ms;
}
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
    details = await readJob(jobs, id, desc);
  } catch (err) {
    if (err instanceof JobNotFoundError) throw notFound(`Job '${id}' does not exist`);
    throw err; // Temporal away: the error handler's 503
  }
  const shareOf = ((desc?.memo ?? {}) as Partial<JobMemo>).shareOf ?? null;
  const log = logFile(jobs.sharePath, id, shareOf);
  const cursor = parseCursor(req.get('last-event-id'));

  res.status(200).set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  res.flushHeaders();
  let gone = false;
  req.on('close', () => (gone = true));
  /** Writes an event; resolves once the client has taken it (a slow reader slows the stream, nothing piles up). */
  const send = async (event: JobEvent) => {
    cursor.n += 1;
    if (!res.write(`id: ${cursor.log}-${cursor.steps}-${cursor.n}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`) && !gone) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          req.off('close', done);
          resolve();
        };
        res.once('drain', done);
        req.once('close', done);
      });
    }
  };

  let lastStatus = '';
  let lastChildren = '';
  let lastBeat = Date.now();
  /**
   * Sends the log's whole lines past the cursor, counted in bytes (whatever their encoding); a
   * line longer than a chunk goes in pieces; with `final`, a last line without its newline too.
   */
  const sendLog = async (final = false) => {
    const handle = await fsp.open(log, 'r').catch(() => null);
    if (!handle) return;
    try {
      const buf = Buffer.alloc(LOG_CHUNK_BYTES);
      while (!gone) {
        const { bytesRead } = await handle.read(buf, 0, LOG_CHUNK_BYTES, cursor.log);
        if (bytesRead === 0) return;
        const chunk = buf.subarray(0, bytesRead);
        const end = chunk.lastIndexOf(0x0a);
        const whole = end >= 0 ? chunk.subarray(0, end + 1) : bytesRead === LOG_CHUNK_BYTES || final ? chunk : null;
        if (!whole) return; // a line still being written
        let start = 0;
        while (start < whole.length) {
          const nl = whole.indexOf(0x0a, start);
          const stop = nl < 0 ? whole.length : nl;
          cursor.log += stop - start + (nl < 0 ? 0 : 1);
          await send({ type: 'log', data: { line: whole.subarray(start, stop).toString('utf8') } });
          start = stop + 1;
        }
        if (bytesRead < LOG_CHUNK_BYTES && end === bytesRead - 1) return;
      }
    } finally {
      await handle.close();
    }
  };
  const sendState = async (d: JobDetails) => {
    const steps = d.steps ?? [];
    const current = steps.at(-1)?.info ?? null;
    const status = JSON.stringify([d.status, d.progress, current, d.retry, d.waiting]);
    if (status !== lastStatus) {
      lastStatus = status;
      await send({ type: 'status', data: { status: d.status, progress: d.progress, step: current, retry: d.retry, ...(d.waiting ? { waiting: d.waiting } : {}) } });
    }
    // A step is sent once it is done (its duration known: -1 while it runs), or when the job ended.
    const done = isFinished(d.status) ? steps.length : steps.filter((s) => s.duration >= 0).length;
    for (; cursor.steps < done; cursor.steps++) {
      const step = steps[cursor.steps]!;
      await send({ type: 'step', data: { index: cursor.steps, info: step.info, duration: step.duration >= 0 ? step.duration : null } });
    }
    if (d.children) {
      const children = JSON.stringify(d.children);
      if (children !== lastChildren) {
        lastChildren = children;
        await send({ type: 'children', data: d.children });
      }
    }
  };

  // The job's end is seen as Temporal records it (a long poll on its close), not up to a poll later.
  const stop = new AbortController();
  let isClosed = false;
  /** The job's details as its close's result tells them, when it tells all (a success, from a worker of 2026-12 or later). */
  let closedWith: JobDetails | null = null;
  let wake: (() => void) | null = null; // ends the current wait between reads
  if (desc && !isFinished(details.status)) {
    const memo = (desc.memo ?? {}) as Partial<JobMemo>;
    void waitForClose(jobs, id, stop.signal).then((result) => {
      isClosed = true;
      const counts = result?.children;
      if (result && counts) {
        closedWith = { ...successDetails(baseOf({ workflowId: id, closeTime: undefined }, memo), result), ...(counts.started > 0 ? { children: counts } : {}) };
      }
      wake?.();
    });
  }
  try {
    for (;;) {
      const over = isFinished(details.status);
      await sendState(details);
      await sendLog(over);
      if (gone) return;
      if (over) {
        await send({ type: 'end', data: { status: details.status, progress: details.progress, error: details.error, result: details.result } });
        break;
      }
      if (!isClosed) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = null;
      }
      if (gone) return;
      if (Date.now() - lastBeat >= EVENTS_HEARTBEAT_MS) {
        lastBeat = Date.now();
        res.write(': keep-alive\n\n');
      }
      if (closedWith) {
        details = closedWith;
        continue;
      }
      try {
        // Once closed without a full result, still from Temporal: the sub-task counts are then in its memo only.
        details = await readJob(jobs, id);
      } catch (err) {
        // Temporal away for a moment: say so as a comment, and keep trying while the client waits.
        res.write(`: ${(err as Error).message.split('\n')[0]}\n\n`);
      }
    }
  } finally {
    stop.abort();
  }
  res.end();
}

/**
 * Resolves once the job's workflow has closed, however it ended (with its result when it
 * succeeded, else null); never when the wait fails (Temporal away, the stream gone): the stream's
 * own reads then notice the end.
 */
function waitForClose({ client }: JobSource, id: string, signal: AbortSignal): Promise<JobResult | null> {
  return new Promise<JobResult | null>((resolve) => {
    client
      .withAbortSignal(signal, () => client.workflow.getHandle(id).result() as Promise<JobResult>)
      .then(
        (result) => resolve(result),
        (err: unknown) => {
          // A failed or cancelled job ends its wait with its failure: it closed all the same.
          if (!signal.aborted && !temporalUnreachable(err)) resolve(null);
        },
      );
  });
}
