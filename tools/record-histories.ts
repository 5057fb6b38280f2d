// Records one history of each shape of the job workflow, as the current code runs it, into
// test/fixtures/histories/<label>-<shape>.json, for test/unit/replay.test.ts: when pixyzJob
// changes shape, the histories of the release before the change must still replay.
//
//   npx tsx tools/record-histories.ts <label> [shape …]   (label: the patch name or the commit;
//                                                         shapes: all when none is named)
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import { startBenchStack } from '../bench/harness';
import { saveModel } from '../src/geometry';
import { assembly } from '../test/helpers/models';
import { craftZip } from '../test/helpers/zip';

const [label, ...only] = process.argv.slice(2);
const SHAPES = ['trivial', 'outputs', 'archive', 'failure', 'running-signal', 'sub-task', 'cancelled', 'warm-up', 'timed-out', 'canvas', 'failed-member', 'fresh-context', 'thumbnail-chained', 'shutdown-rerun'];
if (!label || !/^[\w.-]+$/.test(label) || only.some((s) => !SHAPES.includes(s))) {
  console.error(`usage: npx tsx tools/record-histories.ts <label> [shape …]   (label: letters, digits, . _ -; shapes: ${SHAPES.join(', ')})`);
  process.exit(2);
}
const wanted = (shape: string) => only.length === 0 || only.includes(shape);
const OUT = path.join(__dirname, '..', 'test', 'fixtures', 'histories');

// historyToJSON trips over the duplicated protobufjs of this install (see replay.test.ts): use
// @temporalio/proto's own copy.
const { toJson } = createRequire(require.resolve('@temporalio/proto'))('protobufjs/ext/protojson') as { toJson(type: unknown, message: unknown): unknown };
const historyType = (patchProtobufRoot(require('@temporalio/proto')) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');

const SCRIPTS: Record<string, string> = {
  trivial: `export async function main() { return { ok: 1 }; }`,
  outputs: `import fs from 'node:fs'; import path from 'node:path';
export async function main(pc: any) { fs.writeFileSync(path.join(pc.getOutputDir(), 'copy.obj'), fs.readFileSync(pc.getInputFile())); return 1; }`,
  failure: `export async function main() { throw new Error('boom'); }`,
  slow: `export async function main() { await new Promise((r) => setTimeout(r, 30000)); }`,
  running: `export async function main() { await new Promise((r) => setTimeout(r, 1500)); return 1; }`,
  rerun: `export async function main() { await new Promise((r) => setTimeout(r, 3000)); return 1; }`,
  'sub-task': `import { pixyzSchedule, type ProgramContext } from 'pixyz-scheduler';
export async function work(_pc: ProgramContext, p: { n: number }) { return p.n * 2; }
export const main = pixyzSchedule({ queue: 'control' }, async (pc: ProgramContext) => pc.clone({ entrypoint: 'work', raw: true }).execute({ n: 21 }).get());`,
};
/** Canvases (a single sub-task, a group, a chain, a chord), a failed group member and a fresh context, from the sub-task tests' own script. */
const SUB_TASKS = fs.readFileSync(path.join(__dirname, '..', 'test', 'fixtures', 'sub-tasks.ts'), 'utf8');

async function main(): Promise<void> {
  // Sub-task trees need their members side by side (a failed member's siblings run as it fails).
  const stack = await startBenchStack({ CONCURRENT_TASKS: '4' });
  const client = new Client({ connection: await Connection.connect({ address: stack.address }) });
  const headers = { 'x-api-key': stack.key };
  const post = async (script: string, file?: { name: string; content: Buffer }, extra: Record<string, string> = {}): Promise<string> => {
    const form = new FormData();
    if (extra.process) form.set('process', extra.process);
    else form.set('script', new Blob([script]), 'job.ts');
    if (file) form.set('file', new Blob([file.content]), file.name);
    for (const [key, value] of Object.entries(extra)) if (key !== 'process') form.set(key, value);
    return ((await (await fetch(`${stack.url}/jobs`, { method: 'POST', body: form, headers })).json()) as { uuid: string }).uuid;
  };
  const save = async (shape: string, workflowId: string) => {
    const handle = client.workflow.getHandle(workflowId);
    await handle.result().catch(() => {}); // failed and cancelled runs are shapes too
    const json = toJson(historyType, await handle.fetchHistory());
    fs.writeFileSync(path.join(OUT, `${label}-${shape}.json`), `${JSON.stringify(json)}\n`);
    console.log(`${label}-${shape}.json`);
  };
  /** The job and every workflow it started, children first by start time: <shape>-parent, <shape>-<type>-<n>. */
  const saveTree = async (shape: string, workflowId: string) => {
    await save(`${shape}-parent`, workflowId);
    let n = 0;
    const walk = async (id: string): Promise<void> => {
      const children: { workflowId: string; type: string; startTime: Date }[] = [];
      for await (const wf of client.workflow.list({ query: `ParentWorkflowId = "${id}"` })) children.push(wf);
      for (const child of children.sort((a, b) => a.startTime.getTime() - b.startTime.getTime())) {
        await save(`${shape}-${child.type === 'pixyzCanvas' ? 'canvas' : 'job'}-${++n}`, child.workflowId);
        await walk(child.workflowId);
      }
    };
    await walk(workflowId);
  };

  const zip = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-histories-')), 'parts.zip');
  craftZip(zip, [{ name: 'part.obj', content: 'v 1 2 3\n' }]);
  if (wanted('trivial')) await save('trivial', await post(SCRIPTS.trivial!));
  if (wanted('outputs')) await save('outputs', await post(SCRIPTS.outputs!, { name: 'model.obj', content: Buffer.from('v 0 0 0\n') }));
  if (wanted('archive')) await save('archive', await post(SCRIPTS.outputs!, { name: 'parts.zip', content: fs.readFileSync(zip) }));
  if (wanted('failure')) await save('failure', await post(SCRIPTS.failure!));
  if (wanted('running-signal')) await save('running-signal', await post(SCRIPTS.running!));
  if (wanted('sub-task')) {
    const parent = await post(SCRIPTS['sub-task']!);
    await save('sub-task-parent', parent);
    for await (const child of client.workflow.list({ query: `ParentWorkflowId = "${parent}"` })) await save('sub-task-child', child.workflowId);
  }
  if (wanted('cancelled')) {
    const slow = await post(SCRIPTS.slow!);
    await new Promise((r) => setTimeout(r, 1500));
    await fetch(`${stack.url}/jobs/${slow}/cancel`, { method: 'POST', headers });
    await save('cancelled', slow);
  }
  if (wanted('warm-up')) {
    for await (const warmUp of client.workflow.list({ query: `WorkflowType = "pixyzWarmUp"` })) {
      await save('warm-up', warmUp.workflowId);
      break;
    }
  }
  // Killed at its time limit, retried once (the default), killed again.
  if (wanted('timed-out')) await save('timed-out', await post(SCRIPTS.slow!, undefined, { config: JSON.stringify({ time_limit: 1 }) }));
  if (wanted('canvas')) await saveTree('canvas', await post(SUB_TASKS, undefined, { config: JSON.stringify({ entrypoint: 'main' }) }));
  // A group whose middle member fails while the two others run.
  if (wanted('failed-member')) await saveTree('failed-member', await post(SUB_TASKS, undefined, { config: JSON.stringify({ entrypoint: 'failingGroup' }) }));
  if (wanted('fresh-context')) await saveTree('fresh-context', await post(SUB_TASKS, undefined, { config: JSON.stringify({ entrypoint: 'directories' }) }));
  if (wanted('thumbnail-chained')) {
    const glb = path.join(path.dirname(zip), 'assembly.glb');
    await saveModel(assembly(), glb);
    const id = await post('', { name: 'assembly.glb', content: fs.readFileSync(glb) }, { process: 'thumbnail_chained', params: JSON.stringify({ width: 32, height: 32 }) });
    await saveTree('thumbnail-chained', id);
  }
  // Cut short by its worker's shutdown (a deploy), run again on the next worker.
  if (wanted('shutdown-rerun')) {
    const id = await post(SCRIPTS.rerun!);
    await new Promise((r) => setTimeout(r, 1500));
    await stack.restartWorkers();
    await save('shutdown-rerun', id);
  }
  await stack.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
