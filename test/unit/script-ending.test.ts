// How a script's attempt ended, classified without a process: the runScript activity's answer
// for each way a job's script can end.
import { describe, expect, it } from 'vitest';
import { scriptEnding } from '../../src/activities/script-ending';
import { ErrorType } from '../../src/shared/errors';

const progress = { total: 1, current: 1, progress: 100, steps: [], started: null, stopped: null } as never;
const base = { timedOut: false, aborted: false, cancelRequested: false, workerShutdown: false, outcome: undefined, exit: null, timeLimitSeconds: 30 };

describe('scriptEnding', () => {
  it('gives the result, or the script’s own error, when the script answered', () => {
    expect(scriptEnding({ ...base, outcome: { type: 'result', value: { ok: 1 }, progress } })).toEqual({ kind: 'result', value: { ok: 1 }, progress });
    const error = { type: 'ScriptFailed', name: 'ValueError', message: 'broken', stack: 'Traceback…' };
    expect(scriptEnding({ ...base, outcome: { type: 'error', error, progress: null } })).toEqual({ kind: 'script-error', error, progress: null });
  });

  it('says the time limit, whatever the script answered meanwhile', () => {
    const end = scriptEnding({ ...base, timedOut: true, exit: { code: null, signal: 'SIGTERM' } });
    expect(end).toMatchObject({ kind: 'failure', type: ErrorType.ScriptTimeout, message: 'Task process timeout (30 s)', nonRetryable: false });
  });

  it('tells a cancel from a worker stopping (not an attempt of the script’s) and from Temporal’s own timeout', () => {
    expect(scriptEnding({ ...base, aborted: true, cancelRequested: true, timedOut: true }).kind).toBe('cancelled');
    expect(scriptEnding({ ...base, aborted: true, workerShutdown: true })).toMatchObject({ kind: 'failure', type: ErrorType.WorkerShutdown, nonRetryable: true });
    expect(scriptEnding({ ...base, aborted: true })).toMatchObject({ type: ErrorType.ScriptTimeout });
  });

  it('says how a process that never answered ended: killed, exited, or never started', () => {
    expect(scriptEnding({ ...base, exit: { code: null, signal: 'SIGKILL' } })).toMatchObject({
      type: ErrorType.ScriptKilled,
      message: 'Task process exited with error: the script process was killed by SIGKILL',
      processExit: true,
    });
    expect(scriptEnding({ ...base, exit: { code: 3, signal: null } })).toMatchObject({ type: ErrorType.ScriptExited, message: 'Task process exited with error: the script process exited with code 3 before returning a result' });
    expect(scriptEnding({ ...base, exit: { code: null, signal: null, error: new Error('spawn python3 ENOENT') } })).toMatchObject({
      message: 'Task process exited with error: the script process could not start: spawn python3 ENOENT',
    });
  });
});
