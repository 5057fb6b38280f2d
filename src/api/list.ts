// GET /jobs: jobs from Temporal's visibility store (not a scan of the disk), newest first with
// running ones on top (the store's own order), paged, filtered.
import crypto from 'node:crypto';
import type { Client } from '@temporalio/client';
import { badRequest } from './errors';
import { ListQuery as ListQuerySchema } from './schemas';
import { JOB_WORKFLOW_TYPE, readJob, jobState, JobNotFoundError, type JobState } from './job-state';

export const DEFAULT_PAGE = 50;
const READ_CONCURRENCY = 8;

// A terminated or timed-out workflow cannot upsert PixyzStatus: filter on ExecutionStatus too.
const STATUS_FILTERS: Record<string, string> = {
  PENDING: `ExecutionStatus = "Running" AND PixyzStatus = "PENDING"`,
  RUNNING: `ExecutionStatus = "Running" AND PixyzStatus IN ("RUNNING", "FAILURE")`, // FAILURE: zipping a failed script's outputs
  SUCCESS: `ExecutionStatus = "Completed"`,
  FAILURE: `ExecutionStatus IN ("Failed", "Terminated", "TimedOut")`,
  REVOKED: `ExecutionStatus = "Canceled"`,
};

const quote = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export interface ListQuery {
  status?: string;
  name?: string;
  process?: string;
  all?: boolean;
  limit?: number;
  next?: string;
}

export function parseListQuery(q: Record<string, unknown>): ListQuery {
  const upper = typeof q.status === 'string' ? { ...q, status: q.status.toUpperCase() } : q;
  const checked = ListQuerySchema.safeParse(upper);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw badRequest(`Invalid ${issue.path.join('.')} '${String(q[String(issue.path[0])])}': ${issue.message}`);
  }
  const { all, limit, ...rest } = checked.data;
  return { ...rest, all: all === 'true', limit: limit ?? DEFAULT_PAGE };
}

/** The visibility query for a listing. */
export function visibilityQuery(q: ListQuery): string {
  const parts = [`WorkflowType = "${JOB_WORKFLOW_TYPE}"`];
  if (!q.all) parts.push('ParentWorkflowId IS NULL');
  if (q.status) parts.push(STATUS_FILTERS[q.status]!);
  if (q.name) parts.push(`PixyzJobName = ${quote(q.name)}`);
  if (q.process) parts.push(`PixyzProcess = ${quote(q.process)}`);
  return parts.join(' AND ');
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

const CHECK_BYTES = 8;
const tokenCheck = (token: Uint8Array) => crypto.createHash('sha256').update('pixyz next page\0').update(token).digest().subarray(0, CHECK_BYTES);

/**
 * A page token as clients get it: Temporal's, followed by a check of it. A made-up or damaged
 * token is then refused at once: Temporal fails on one only after ~20 s of retries, with an error
 * that does not say why.
 */
export function encodeNextToken(token: Uint8Array): string {
  return Buffer.concat([token, tokenCheck(token)]).toString('base64url');
}

/** Temporal's page token from a client's `next`; 400 when it is not one this API gave. */
export function decodeNextToken(next: string): Uint8Array {
  const bytes = Buffer.from(next, 'base64url');
  const token = bytes.subarray(0, Math.max(0, bytes.length - CHECK_BYTES));
  if (token.length === 0 || bytes.toString('base64url') !== next || !tokenCheck(token).equals(bytes.subarray(token.length))) {
    throw badRequest('Invalid next token: pass on the one the previous page gave');
  }
  return token;
}

export async function listJobs(client: Client, namespace: string, q: ListQuery): Promise<{ jobs: JobState[]; next: string | null }> {
  const token = q.next ? decodeNextToken(q.next) : undefined;
  let page;
  try {
    page = await client.workflowService.listWorkflowExecutions({
      namespace,
      query: visibilityQuery(q),
      pageSize: q.limit,
      nextPageToken: token,
    });
  } catch (err) {
    if (q.next && /token/i.test((err as Error).message)) throw badRequest('Invalid next token');
    throw err;
  }
  const ids = (page.executions ?? []).map((e) => e.execution?.workflowId).filter((id): id is string => !!id);
  const states = await mapLimited(ids, READ_CONCURRENCY, async (id) => {
    try {
      return jobState(await readJob(client, id));
    } catch (err) {
      if (err instanceof JobNotFoundError) return null; // expired between the listing and the read
      throw err;
    }
  });
  const nextToken = page.nextPageToken && page.nextPageToken.length > 0 ? encodeNextToken(page.nextPageToken) : null;
  return { jobs: states.filter((s): s is JobState => s !== null), next: nextToken };
}
