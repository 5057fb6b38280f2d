// Upstream's canvas (group, chain, chord) as plain data, and the rules both the workflow and
// local mode follow when they run one. No Node built-ins: workflows import this.
import type { Canvas, JobResult, TaskOutput, TaskSignature } from './types';

export function countTasks(c: Canvas): number {
  switch (c.kind) {
    case 'task':
      return 1;
    case 'group':
    case 'chain':
      return c.items.reduce((n, i) => n + countTasks(i), 0);
    case 'chord':
      return c.header.reduce((n, i) => n + countTasks(i), 0) + countTasks(c.body);
  }
}

export function taskIds(c: Canvas): string[] {
  switch (c.kind) {
    case 'task':
      return [c.id];
    case 'group':
    case 'chain':
      return c.items.flatMap(taskIds);
    case 'chord':
      return [...c.header.flatMap(taskIds), ...taskIds(c.body)];
  }
}

/** A plain object: chain steps with params of their own merge the previous result into them. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The params of a task: its own, the previous step's result, or both merged (upstream chains). */
export function stepParams(own: unknown, previous: unknown): unknown {
  if (own === undefined) return previous === undefined ? {} : previous;
  if (previous === undefined) return own;
  return isPlainObject(own) && isPlainObject(previous) ? { ...own, ...previous } : previous;
}

/** What a task contributes to a canvas: its raw value, or upstream's progress object around it. */
export function taskValue(sig: Pick<TaskSignature, 'raw' | 'name'>, out: Pick<JobResult, 'result' | 'progress' | 'timeInfo'>): unknown {
  if (sig.raw) return out.result;
  const value: TaskOutput = {
    shadow_name: sig.name,
    time_info: out.timeInfo,
    progress: out.progress.progress,
    steps: out.progress.steps,
    result: out.result,
  };
  return value;
}


/**
 * Runs a canvas with `runTask` starting one task: a group in parallel, a chain in sequence (each
 * step gets the previous result), a chord as a group whose list of results is its body's params.
 */
export async function runCanvas(
  canvas: Canvas,
  runTask: (sig: TaskSignature, params: unknown) => Promise<unknown>,
  previous?: unknown,
): Promise<unknown> {
  switch (canvas.kind) {
    case 'task':
      return runTask(canvas, stepParams(canvas.params, previous));
    case 'group':
      return Promise.all(canvas.items.map((item) => runCanvas(item, runTask, previous)));
    case 'chain': {
      let value = previous;
      for (const item of canvas.items) value = await runCanvas(item, runTask, value);
      return value;
    }
    case 'chord':
      return runCanvas(canvas.body, runTask, await Promise.all(canvas.header.map((item) => runCanvas(item, runTask, previous))));
  }
}
