// Jobs started by an earlier release must still finish after a deploy: a worker running the new
// workflow code replays their recorded history before it moves them on, and a workflow that now
// emits other commands, or the same ones in another order, without a patched() guard fails that
// replay (DeterminismViolationError) and strands the job. So every history in
// test/fixtures/histories/ (recorded from a previous release, one per workflow shape) is
// replayed here against the current workflow code. Each file is named <release or patch>-<shape>;
// `npx tsx tools/record-histories.ts <label>` records every shape as the code of the day runs it:
// do so before a change of shape, so that the histories of the release before it stay here.
//
// Replay needs no server; the workflow bundle comes from the global setup, which starts one anyway.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import { Worker } from '@temporalio/worker';
import { installTestRuntime } from '../helpers/runtime';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { PATCHES_STATED } from '../../src/shared/path-version';

const HISTORIES = path.join(__dirname, '..', 'fixtures', 'histories');

// historyFromJSON (@temporalio/common/lib/proto-utils, which the worker calls on a JSON history)
// throws "type must be a Type" in this install: @temporalio/common and @temporalio/proto each get
// a nested protobufjs 8 (the hoisted one is 7, for @grpc/proto-loader), and protobufjs's
// protojson checks `instanceof Type` against its own copy. Parse with @temporalio/proto's copy.
// (Loaded with require: the patched root needs the CommonJS module object itself.)
const requireHere = createRequire(__filename);
const protoRoot = requireHere('@temporalio/proto') as typeof proto;
const { fromJson } = createRequire(requireHere.resolve('@temporalio/proto'))('protobufjs/ext/protojson') as {
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): proto.temporal.api.history.v1.IHistory;
};
const historyType = (patchProtobufRoot(protoRoot) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');

function loadHistory(file: string): proto.temporal.api.history.v1.IHistory {
  return fromJson(historyType, JSON.parse(fs.readFileSync(path.join(HISTORIES, file), 'utf8')), { ignoreUnknownFields: true });
}

/** The history with its start input (a job's, or a canvas's parent) stating `pathVersion`. */
function statingPathVersion(history: proto.temporal.api.history.v1.IHistory, pathVersion: number): proto.temporal.api.history.v1.IHistory {
  const payload = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
  const input = JSON.parse(Buffer.from(payload.data!).toString('utf8')) as { parent?: Record<string, unknown> } & Record<string, unknown>;
  if (input.parent) input.parent.pathVersion = pathVersion;
  else input.pathVersion = pathVersion;
  payload.data = Buffer.from(JSON.stringify(input));
  return history;
}

describe('recorded histories', () => {
  beforeAll(() => installTestRuntime());
  const files = fs.readdirSync(HISTORIES).filter((f) => f.endsWith('.json')).sort();

  it('replay against the current workflow code', async () => {
    expect(files.length).toBeGreaterThan(0);
    const failures: string[] = [];
    const replayed: string[] = [];
    const results = Worker.runReplayHistories(
      { workflowBundle: { codePath: inject('workflowBundlePath') } },
      files.map((file) => ({ workflowId: file, history: loadHistory(file) })),
    );
    for await (const { workflowId, error } of results) {
      replayed.push(workflowId);
      if (error) {
        const err = error as Error;
        failures.push(`${workflowId}: ${err.name}: ${err.message}`);
      }
    }
    expect(replayed.sort()).toEqual(files);
    expect(failures, failures.join('\n')).toEqual([]);
  });

  // A job submitted to an API of path version 2 may still run, in part, on a worker of the
  // release before it (a rolling deploy), which records the patch markers that version 2 no longer
  // does: the current code must match them. The histories of that release, their inputs stated as
  // version 2, are such jobs.
  it('with their markers replay when their input states path version 2', async () => {
    const before = files.filter((f) => f.startsWith('published-state-v1-'));
    expect(before.length).toBeGreaterThan(5);
    const errors: string[] = [];
    const results = Worker.runReplayHistories(
      { workflowBundle: { codePath: inject('workflowBundlePath') } },
      before.map((file) => ({ workflowId: file, history: statingPathVersion(loadHistory(file), PATCHES_STATED) })),
    );
    for await (const { workflowId, error } of results) if (error) errors.push(`${workflowId}: ${(error as Error).name}: ${(error as Error).message}`);
    expect(errors, errors.join('\n')).toEqual([]);
  });

  // Kept to say which jobs an upgrade strands (histories/README.md says why): each must still fail.
  it('that cannot replay still cannot, with a nondeterminism error', async () => {
    const unreplayable = fs.readdirSync(path.join(HISTORIES, 'unreplayable')).filter((f) => f.endsWith('.json')).sort();
    expect(unreplayable).toEqual(['6407f72-failure.json']);
    const errors: string[] = [];
    const results = Worker.runReplayHistories(
      { workflowBundle: { codePath: inject('workflowBundlePath') } },
      unreplayable.map((file) => ({ workflowId: file, history: loadHistory(path.join('unreplayable', file)) })),
    );
    for await (const { error } of results) errors.push(error ? (error as Error).name : 'replayed');
    expect(errors).toEqual(['DeterminismViolationError']);
  });
});
