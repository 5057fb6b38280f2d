import type { Canvas, SpawnOutput } from '../shared/types';

/**
 * Where sub-tasks go: to the scheduler (the runner's IPC backend) or run in-process (local
 * mode). One per process, kept on globalThis so that a script holding its own copy of the SDK
 * module still reaches it.
 */
export interface Backend {
  /** The job whose directory `pc.clone()` sub-tasks share; null when none. */
  readonly jobId: string | null;
  spawn(canvas: Canvas): Promise<SpawnOutput>;
  join(id: string, kind: 'task' | 'canvas', timeoutMs: number | null): Promise<unknown>;
  status(id: string): Promise<string>;
}

const KEY = Symbol.for('pixyz-scheduler.backend');
type Holder = { [KEY]?: Backend };

export function setBackend(backend: Backend): void {
  (globalThis as Holder)[KEY] = backend;
}

export function currentBackend(): Backend | undefined {
  return (globalThis as Holder)[KEY];
}

export function backend(): Backend {
  const b = currentBackend();
  if (!b) {
    throw new Error(
      'sub-tasks need the scheduler or local mode: run the script through the API, or locally with ' +
        'pixyz-local / LocalPixyzTask.fromCommandline / ProgramContext.fromLocal',
    );
  }
  return b;
}
