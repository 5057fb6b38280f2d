// Upstream's canvas (group, chain, chord) as plain data, and the rules both the workflow and
// local mode follow when they run one. No Node built-ins: workflows import this.
import type { Canvas, JobResult, TaskOutput, TaskSignature } from './types';

// Sizes Temporal would refuse later, checked where a user's data enters: a payload (an Update, a
// child's input) may not pass 2 MB, and Temporal warns from 512 KB.
/** A sub-task's own params, as JSON. */
export const MAX_SUB_TASK_PARAMS_BYTES = 512 * 1024;
/** A whole spawn (a task, or a group, chain or chord with every task's params), as JSON. */
export const MAX_SPAWN_BYTES = 1536 * 1024;
/** What a chord's body receives: the list of its header's results, as JSON. */
export const MAX_CHORD_BODY_INPUT_BYTES = 1536 * 1024;

/** Bytes of `value` as JSON (UTF-8); no Node built-ins, as workflows use it too. */
export function jsonBytes(value: unknown): number {
  const json = JSON.stringify(value) ?? '';
  let bytes = json.length;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c >= 0x80) bytes += c >= 0x800 && !(c >= 0xd800 && c <= 0xdfff) ? 2 : 1;
  }
  return bytes;
}

/** A canvas step whose input would be over a limit (the workflow fails the canvas with it, as InvalidInput). */
export class CanvasInputTooLarge extends Error {
  override name = 'CanvasInputTooLarge';
}

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
    case 'chord': {
      const results = await Promise.all(canvas.header.map((item) => runCanvas(item, runTask, previous)));
      const bytes = jsonBytes(results);
      if (bytes > MAX_CHORD_BODY_INPUT_BYTES) {
        throw new CanvasInputTooLarge(
          `the results of chord ${canvas.id}'s ${canvas.header.length} header task(s) are ${bytes} bytes of JSON, over the ${MAX_CHORD_BODY_INPUT_BYTES}-byte limit of its body's input: have them write large data to files in pc.getOutputDir() and return the names`,
        );
      }
      return runCanvas(canvas.body, runTask, results);
    }
  }
}
