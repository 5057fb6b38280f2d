// How the API reads a job from its workflow's description.
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { runningState } from '../../src/api/job-state';

describe('a running job’s details, after its script', () => {
  // What the workflow's description says once runScript is no longer pending.
  const after = (phase: string) =>
    runningState({} as Client, { raw: { pendingActivities: [] }, searchAttributes: { PixyzStatus: [phase] } } as unknown as WorkflowExecutionDescription, {
      uuid: 'u',
      name: null,
      time_info: { request: null, started: null, stopped: null },
    });

  it('is RUNNING at 100 % while a successful script’s outputs are zipped, without a percentage once it failed', () => {
    expect(after('RUNNING')).toMatchObject({ status: 'RUNNING', progress: 100 });
    expect(after('FAILURE')).toMatchObject({ status: 'RUNNING', progress: null });
    expect(after('PENDING')).toMatchObject({ status: 'PENDING', progress: null });
  });
});
