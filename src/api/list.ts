// GET /jobs: jobs from Temporal's visibility store (not a scan of the disk), newest first with
// running ones on top (the store's own order), paged, filtered.
import crypto from 'node:crypto';
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers';
import { VISIBILITY_FILTERS, type ListedStatus } from '../shared/job-status';
import { JOB_PROCESS } from '../shared/search-attributes';
import type { JobMemo } from '../shared/types';
import { badRequest } from './errors';
import { ListQuery as ListQuerySchema } from './schemas';
import { JOB_WORKFLOW_TYPE, stateOf, type JobSource, type JobState } from './job-state';

export const DEFAULT_PAGE = 50;
const READ_CONCURRENCY = 8;

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

const quote = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export interface ListQuery {
  status?: ListedStatus;
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
export function visibilityQuery(q: ListQuery, controlQueue: string): string {
  // This deployment's jobs: those whose workflows run on its control queue.
  const parts = [`WorkflowType = "${JOB_WORKFLOW_TYPE}"`, `TaskQueue = ${quote(controlQueue)}`];
  if (!q.all) parts.push('ParentWorkflowId IS NULL');
  if (q.status) parts.push(VISIBILITY_FILTERS[q.status]);
  // Prefixes, as users type them (an exact name is one too): "convert" finds convert_file jobs.
  if (q.name) parts.push(`PixyzJobName STARTS_WITH ${quote(q.name)}`);
  if (q.process) parts.push(`PixyzProcess STARTS_WITH ${quote(q.process)}`);
  return parts.join(' AND ');
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

/** A job as GET /jobs lists it: upstream's JobState, and beyond it what it runs (a process, or an uploaded script's name) and when it was submitted. */
export interface ListedJob extends JobState {
  process: string | null;
  time_request: string | null;
}

export async function listJobs(source: JobSource, q: ListQuery): Promise<{ jobs: ListedJob[]; next: string | null }> {
  const { client, controlQueue } = source;
  const namespace = client.options.namespace;
  const token = q.next ? decodeNextToken(q.next) : undefined;
  let page;
  try {
    page = await client.workflowService.listWorkflowExecutions({
      namespace,
      query: visibilityQuery(q, controlQueue),
      pageSize: q.limit,
      nextPageToken: token,
    });
  } catch (err) {
    if (q.next && /token/i.test((err as Error).message)) throw badRequest('Invalid next token');
    throw err;
  }
  // Each job as its visibility record shows it: one call for the page.
  // (A job failed under an older release costs one more read: 8 at a time.)
  const jobs = await mapLimited(page.executions ?? [], READ_CONCURRENCY, async (raw): Promise<ListedJob> => {
    const info = await executionInfoFromRaw(raw, client.options.loadedDataConverter, raw, namespace);
    const memo = (info.memo ?? {}) as Partial<JobMemo>;
    return { ...(await stateOf(client, info)), process: info.typedSearchAttributes.get(JOB_PROCESS) ?? memo.process ?? null, time_request: memo.timeRequest ?? null };
  });
  const nextToken = page.nextPageToken && page.nextPageToken.length > 0 ? encodeNextToken(page.nextPageToken) : null;
  return { jobs, next: nextToken };
}
