// Running a tutorial the two ways a user does: on this machine with pixyz-local (no Temporal), and
// through the scheduler's API; and reading what a user then sees (outputs, sub-tasks).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { expect } from 'vitest';
import { JOB_PROCESS } from '../../src/shared/search-attributes';
import { eventually, readScript, REPO, submit, waitForEnd, type Stack } from './stack';

/** A two-triangle OBJ model: the tutorials' input. */
export const QUAD_OBJ = Buffer.from('v 0 0 0\nv 1 0 0\nv 0 1 0\nv 1 1 0\nf 1 2 3\nf 2 4 3\n');

/** The sum of the crc32 of the file's four quarters, as the DAG tutorials (02_*) compute it. */
export const quarterCrcSum = (data: Buffer) =>
  [0, 1, 2, 3].reduce((sum, i) => sum + zlib.crc32(data.subarray(Math.floor((i * data.length) / 4), Math.floor(((i + 1) * data.length) / 4))), 0);

export interface LocalRun {
  /** What the entrypoint returned (the last line pixyz-local prints). */
  result: any;
  /** The files it wrote, relative to its output directory, sorted. */
  outputs: string[];
  dir: string;
  /** pixyz-local's progress lines. */
  stderr: string;
}

/** A tutorial's file: `00_sleep.ts` in scripts/tutorial, or a path from the repository's root (`scripts/tutorial-python/00_sleep.py`). */
const tutorialPath = (tutorial: string) => (tutorial.includes('/') ? tutorial : `scripts/tutorial/${tutorial}`);

/**
 * Runs scripts/tutorial/<tutorial> with bin/pixyz-local.cjs, writing into a new directory under
 * `work`. Asynchronous, so that a scheduled run may go on meanwhile.
 */
export function runLocally(work: string, tutorial: string, params: unknown, input?: string, entrypoint?: string): Promise<LocalRun> {
  const dir = fs.mkdtempSync(path.join(work, 'out-'));
  const args = [path.join(REPO, 'bin/pixyz-local.cjs'), path.join(REPO, tutorialPath(tutorial)), '-o', dir, '-p', JSON.stringify(params)];
  if (input) args.push('-i', input);
  if (entrypoint) args.push('-e', entrypoint);
  return new Promise((resolve, reject) => {
    // Its own process group: a run that hangs is killed with the tsx process pixyz-local starts.
    const child = spawn(process.execPath, args, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`pixyz-local ${tutorial} exited ${code}: ${stderr}`));
      const files = (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile());
      resolve({ result: JSON.parse(stdout.trim().split('\n').at(-1)!), outputs: files.map((f) => f.split(path.sep).join('/')).sort(), dir, stderr });
    });
  });
}

/** Submits scripts/tutorial/<tutorial> with an input file and waits for its success; returns the job's details. */
export async function runScheduled(
  stack: Stack,
  tutorial: string,
  params: unknown,
  input?: string,
  options: { entrypoint?: string; timeoutMs?: number } = {},
): Promise<any> {
  const { status, body } = await submit(stack, {
    script: { name: path.basename(tutorial), content: readScript(tutorialPath(tutorial)) },
    params,
    ...(input ? { file: { name: path.basename(input), content: fs.readFileSync(input) } } : {}),
    ...(options.entrypoint ? { config: { entrypoint: options.entrypoint } } : {}),
  });
  expect(status, JSON.stringify(body)).toBe(200);
  const final = await waitForEnd(stack, body.uuid, () => {}, options.timeoutMs ?? 150_000);
  expect(final.error).toBeNull();
  expect(final.status).toBe('SUCCESS');
  return final;
}

/** GET /jobs/{id}/outputs: the names in the job's outputs/. */
export async function outputNames(stack: Stack, id: string): Promise<string[]> {
  return ((await (await stack.api(`/jobs/${id}/outputs`)).json()) as { outputs: string[] }).outputs;
}

/** GET /jobs/{id}/outputs/{file}: one output's bytes. */
export async function download(stack: Stack, id: string, file: string): Promise<Buffer> {
  const res = await stack.api(`/jobs/${id}/outputs/${file}`);
  if (res.status !== 200) throw new Error(`download ${file} of ${id}: ${res.status} ${await res.text()}`);
  return Buffer.from(await res.arrayBuffer());
}

export interface Child {
  id: string;
  /** pixyzJob (a sub-task) or pixyzCanvas (a group, chain or chord). */
  type: string;
  /** `<script>:<entrypoint>` for a sub-task. */
  process: string;
}

/** The workflows started by `id`, as the Temporal UI shows them under it, sorted by process. */
export async function childrenOf(stack: Stack, id: string, expected: number): Promise<Child[]> {
  // The visibility store may lag a moment behind the workflows' ends.
  return eventually(async () => {
    const kids: Child[] = [];
    for await (const wf of stack.client.workflow.list({ query: `ParentWorkflowId = "${id}"` })) {
      kids.push({ id: wf.workflowId, type: wf.type, process: String(wf.typedSearchAttributes.get(JOB_PROCESS)) });
    }
    return kids.length >= expected ? kids.sort((a, b) => a.process.localeCompare(b.process)) : undefined;
  });
}

/** The task queue (without the stack's prefix) that ran a job's script: what its runScript activity was scheduled on. */
export async function scriptQueue(stack: Stack, id: string): Promise<string> {
  const history = await stack.client.workflow.getHandle(id).fetchHistory();
  const scheduled = history.events!.map((e) => e.activityTaskScheduledEventAttributes).find((a) => a?.activityType?.name === 'runScript');
  if (!scheduled) throw new Error(`job ${id} ran no script`);
  return scheduled.taskQueue!.name!.slice(stack.config.taskQueuePrefix.length);
}
