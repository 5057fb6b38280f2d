// How a script's attempt ended, told from what is known once its process answered or is gone.
// Pure: unit-tested without processes (test/unit/script-ending.test.ts).
import { ErrorType } from '../shared/errors';
import type { FromRunner, ScriptErrorInfo } from '../shared/protocol';
import type { ProgressSnapshot } from '../shared/types';
import type { Exit } from './script-supervisor';

/** What the script process said last about its job, if anything. */
type Outcome = Extract<FromRunner, { type: 'result' | 'error' }>;

export type ScriptEnding =
  | { kind: 'result'; value: unknown; progress: ProgressSnapshot }
  | { kind: 'cancelled'; message: string }
  | { kind: 'script-error'; error: ScriptErrorInfo; progress: ProgressSnapshot | null }
  /** `processExit`: the process ended without answering (its log's tail says more). */
  | { kind: 'failure'; type: ErrorType; message: string; nonRetryable: boolean; processExit: boolean };

/**
 * How an attempt ended, from what is known once its process answered or is gone: over time, a
 * cancel, its worker stopping, the script's result or error, or an exit without an answer.
 * Pure: the runScript activity turns it into its return value or failure.
 */
export function scriptEnding(e: {
  timedOut: boolean;
  aborted: boolean;
  cancelRequested: boolean;
  workerShutdown: boolean;
  outcome: Outcome | undefined;
  exit: Exit | null;
  timeLimitSeconds: number;
}): ScriptEnding {
  const timeout = { kind: 'failure', type: ErrorType.ScriptTimeout, message: `Task process timeout (${e.timeLimitSeconds} s)`, nonRetryable: false, processExit: false } as const;
  if (e.timedOut && !e.aborted) return timeout;
  if (e.aborted) {
    if (e.cancelRequested) return { kind: 'cancelled', message: 'the job was cancelled; its script process was killed' };
    // Not an attempt of the script's: the workflow runs it again (see pixyzJob), on the next worker.
    if (e.workerShutdown) return { kind: 'failure', type: ErrorType.WorkerShutdown, message: 'the worker stopped while the script was running', nonRetryable: true, processExit: false };
    return timeout; // the activity's own timeout
  }
  if (e.outcome?.type === 'result') return { kind: 'result', value: e.outcome.value, progress: e.outcome.progress };
  if (e.outcome?.type === 'error') return { kind: 'script-error', error: e.outcome.error, progress: e.outcome.progress };
  const exit = e.exit ?? { code: null, signal: null };
  const how = exit.error
    ? `could not start: ${exit.error.message}`
    : exit.signal
      ? `was killed by ${exit.signal}`
      : `exited with code ${exit.code} before returning a result`;
  return { kind: 'failure', type: exit.signal ? ErrorType.ScriptKilled : ErrorType.ScriptExited, message: `Task process exited with error: the script process ${how}`, nonRetryable: false, processExit: true };
}
