// Cancel, delete and logs: what a user does to a job beyond reading it.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import type { Response } from 'express';
import { jobPaths, logFile } from '../shared/share';
import type { JobMemo } from '../shared/types';
import { notFound } from './errors';
import { describeJob, type JobSource } from './job-state';

const CLOSE_WAIT_MS = 5000;
const LOG_POLL_MS = 250;

/** The job's description; 404 when Temporal knows no job by that id (a workflow that is not a job included). */
async function describeOr404(jobs: JobSource, id: string) {
  const desc = await describeJob(jobs, id);
  if (desc === null) throw notFound(`Job '${id}' does not exist`);
  return desc;
}

/** The job's description, or null when Temporal has forgotten it but its directory remains. */
async function describeOrForgotten(jobs: Required<JobSource>, id: string) {
  const desc = await describeJob(jobs, id);
  if (desc !== null) return desc;
  if (fs.existsSync(jobPaths(jobs.sharePath, id).dir)) return null;
  throw notFound(`Job '${id}' does not exist`);
}

/** Waits until the job's workflow is closed, at most `ms`; true when it is. */
async function waitClosed(client: Client, id: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    const desc = await client.workflow.getHandle(id).describe();
    if (desc.status.name !== 'RUNNING') return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Requests cancellation (sub-tasks and script processes go with it); waits a little for it. */
export async function cancelJob(jobs: JobSource, id: string): Promise<void> {
  const { client } = jobs;
  const desc = await describeOr404(jobs, id);
  if (desc.status.name !== 'RUNNING') return;
  await client.workflow.getHandle(id).cancel();
  await waitClosed(client, id, CLOSE_WAIT_MS);
}

/**
 * Cancels the job if it runs, waits for it to end, then removes its directory — unless it is a
 * sub-task working in its parent's directory, which is only cancelled.
 */
export async function deleteJob(jobs: Required<JobSource>, id: string): Promise<{ removed: boolean }> {
  const { client, sharePath } = jobs;
  const desc = await describeOrForgotten(jobs, id);
  if (desc === null) {
    await fsp.rm(jobPaths(sharePath, id).dir, { recursive: true, force: true });
    return { removed: true };
  }
  if (desc.status.name === 'RUNNING') {
    await client.workflow.getHandle(id).cancel();
    if (!(await waitClosed(client, id, 30_000))) throw new Error(`job ${id} did not stop within 30 s; its directory is kept`);
  }
  const memo = (desc.memo ?? {}) as Partial<JobMemo>;
  if (memo.shareOf) return { removed: false };
  await fsp.rm(jobPaths(sharePath, id).dir, { recursive: true, force: true });
  return { removed: true };
}

/** The script's log: its stdout and stderr; with `follow`, streamed until the job ends. */
export async function streamLog(jobs: Required<JobSource>, id: string, follow: boolean, res: Response): Promise<void> {
  const { client, sharePath } = jobs;
  const desc = await describeOrForgotten(jobs, id);
  const memo = (desc?.memo ?? {}) as Partial<JobMemo>;
  const file = logFile(sharePath, id, memo.shareOf);
  res.type('text/plain; charset=utf-8');
  let offset = 0;
  const pump = async () => {
    const size = await fsp.stat(file).then((s) => s.size, () => 0);
    if (size <= offset) return;
    const stream = fs.createReadStream(file, { start: offset, end: size - 1 });
    offset = size;
    for await (const chunk of stream) if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
  };
  await pump();
  if (follow && desc?.status.name === 'RUNNING') {
    let gone = false;
    res.once('close', () => (gone = true));
    let lastCheck = 0;
    while (!gone) {
      await new Promise((r) => setTimeout(r, LOG_POLL_MS));
      await pump();
      if (Date.now() - lastCheck > 1000) {
        lastCheck = Date.now();
        if ((await client.workflow.getHandle(id).describe()).status.name !== 'RUNNING') {
          await pump();
          break;
        }
      }
    }
  }
  res.end();
}
