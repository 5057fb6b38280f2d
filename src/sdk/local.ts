// Local mode: the same script, the same calls, no scheduler. Sub-tasks run in this process.
import { runCanvas, stepParams, taskValue } from '../shared/canvas';
import type { Canvas, JobResult, SpawnOutput, TaskSignature } from '../shared/types';
import { taskIds } from '../shared/canvas';
import type { Backend } from './backend';
import { callEntrypoint, loadEntrypoint } from './load';
import type { ProgramContext, ProgramContextOptions } from './program-context';
import { assertSerializable } from './serializable';
import { processPathOf } from '../shared/config';
import { isPythonScript, processScript } from '../shared/processes';
import { lateJoinMessage, withDeadline } from '../shared/deadline';

/** Upstream's id of a local run. */
export const LOCAL_JOB_ID = '00000000-0000-0000-0000-000000000000';

interface LocalBase {
  script: string;
  outputDir: string;
  inputFile: string | null;
}

interface Run {
  promise: Promise<unknown>;
  state: 'RUNNING' | 'SUCCESS' | 'FAILURE';
}

/** A predefined process's script for a sub-task in local mode: TypeScript or JavaScript, run in this process. */
function localProcessScript(name: string): string {
  const folder = processPathOf();
  const file = processScript(folder, name);
  if (file === null) throw new Error(`no process '${name}' in ${folder} (PROCESS_PATH)`);
  if (isPythonScript(file)) throw new Error(`the process '${name}' is a Python script: local mode of a TypeScript script runs TypeScript processes only (through the scheduler, either runs)`);
  return file;
}

/** Runs sub-tasks in-process, one entrypoint call each, as upstream's local mode does (ProgramContext.fromLocal sets it up). */
export class LocalBackend implements Backend {
  readonly jobId = LOCAL_JOB_ID;
  private readonly runs = new Map<string, Run>();

  /** `makeContext` builds each sub-task's context (ProgramContext's constructor, passed in: the context module imports this one). */
  constructor(
    private readonly base: LocalBase,
    private readonly makeContext: (options: ProgramContextOptions) => ProgramContext,
  ) {}

  private record(id: string, promise: Promise<unknown>): Promise<unknown> {
    const run: Run = { promise, state: 'RUNNING' };
    promise.then(
      () => (run.state = 'SUCCESS'),
      () => (run.state = 'FAILURE'),
    );
    promise.catch(() => {});
    this.runs.set(id, run);
    return promise;
  }

  private async runTask(sig: TaskSignature, params: unknown): Promise<JobResult> {
    const script = sig.process === undefined ? this.base.script : localProcessScript(sig.process);
    const fn = await loadEntrypoint(script, sig.entrypoint);
    const pc = this.makeContext({
      taskId: LOCAL_JOB_ID,
      script,
      entrypoint: sig.entrypoint,
      params,
      isLocal: true,
      raw: sig.raw,
      queue: sig.queue,
      name: sig.name,
      computeOnly: sig.computeOnly,
      // A clone works on its parent's input unless it names another file (pc.clone({ data })).
      data: sig.shareParent && sig.data === null ? this.base.inputFile : sig.data,
      inputFile: sig.shareParent && sig.data === null ? this.base.inputFile : sig.data,
      outputDir: this.base.outputDir,
    });
    const request = new Date().toISOString();
    const result = await callEntrypoint(fn, pc, params);
    pc.progressStop();
    assertSerializable(result, 'the sub-task result');
    const progress = pc.progress;
    return {
      result: JSON.parse(JSON.stringify(result ?? null)),
      retry: 0,
      progress,
      timeInfo: { request, started: progress.started, stopped: progress.stopped },
      archive: null,
    };
  }

  async spawn(canvas: Canvas): Promise<SpawnOutput> {
    if (canvas.kind === 'task') {
      this.record(canvas.id, this.runTask(canvas, stepParams(canvas.params, undefined)).then((out) => out.result));
    } else {
      const value = runCanvas(canvas, async (sig, params) => {
        const out = this.runTask(sig, params);
        this.record(sig.id, out.then((o) => o.result));
        return taskValue(sig, await out);
      });
      this.record(canvas.id, value);
    }
    return { id: canvas.id, tasks: taskIds(canvas) };
  }

  async join(id: string, _kind: 'task' | 'canvas', timeoutMs: number | null): Promise<unknown> {
    const run = this.runs.get(id);
    if (!run) throw new Error(`no local sub-task ${id}`);
    return withDeadline(run.promise, timeoutMs, () => new Error(lateJoinMessage(id, timeoutMs!)));
  }

  async status(id: string): Promise<string> {
    return this.runs.get(id)?.state ?? 'PENDING';
  }

  /** Waits for every sub-task, as a job waits for its children before it ends. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.runs.values()].map((r) => r.promise));
  }
}
