// Records one history of each shape of the job workflow, as the current code runs it, into
// test/fixtures/histories/<label>-<shape>.json, for test/unit/replay.test.ts: when pixyzJob
// changes shape, the histories of the release before the change must still replay.
//
//   npx tsx tools/record-histories.ts <label>      (e.g. the patch name or the commit)
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import { startBenchStack } from '../bench/harness';
import { craftZip } from '../test/helpers/zip';

const label = process.argv[2];
if (!label || !/^[\w.-]+$/.test(label)) {
  console.error('usage: npx tsx tools/record-histories.ts <label>   (letters, digits, . _ -)');
  process.exit(2);
}
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
  'sub-task': `import { pixyzSchedule, type ProgramContext } from 'pixyz-scheduler';
export async function work(_pc: ProgramContext, p: { n: number }) { return p.n * 2; }
export const main = pixyzSchedule({ queue: 'control' }, async (pc: ProgramContext) => pc.clone({ entrypoint: 'work', raw: true }).execute({ n: 21 }).get());`,
};

async function main(): Promise<void> {
  const stack = await startBenchStack();
  const client = new Client({ connection: await Connection.connect({ address: stack.address }) });
  const headers = { 'x-api-key': stack.key };
  const post = async (script: string, file?: { name: string; content: Buffer }): Promise<string> => {
    const form = new FormData();
    form.set('script', new Blob([script]), 'job.ts');
    if (file) form.set('file', new Blob([file.content]), file.name);
    return ((await (await fetch(`${stack.url}/jobs`, { method: 'POST', body: form, headers })).json()) as { uuid: string }).uuid;
  };
  const save = async (shape: string, workflowId: string) => {
    const handle = client.workflow.getHandle(workflowId);
    await handle.result().catch(() => {}); // failed and cancelled runs are shapes too
    const json = toJson(historyType, await handle.fetchHistory());
    fs.writeFileSync(path.join(OUT, `${label}-${shape}.json`), `${JSON.stringify(json)}\n`);
    console.log(`${label}-${shape}.json`);
  };

  const zip = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-histories-')), 'parts.zip');
  craftZip(zip, [{ name: 'part.obj', content: 'v 1 2 3\n' }]);
  await save('trivial', await post(SCRIPTS.trivial!));
  await save('outputs', await post(SCRIPTS.outputs!, { name: 'model.obj', content: Buffer.from('v 0 0 0\n') }));
  await save('archive', await post(SCRIPTS.outputs!, { name: 'parts.zip', content: fs.readFileSync(zip) }));
  await save('failure', await post(SCRIPTS.failure!));
  await save('running-signal', await post(SCRIPTS.running!));
  const parent = await post(SCRIPTS['sub-task']!);
  await save('sub-task-parent', parent);
  const children = client.workflow.list({ query: `ParentWorkflowId = "${parent}"` });
  for await (const child of children) await save('sub-task-child', child.workflowId);
  const slow = await post(SCRIPTS.slow!);
  await new Promise((r) => setTimeout(r, 1500));
  await fetch(`${stack.url}/jobs/${slow}/cancel`, { method: 'POST', headers });
  await save('cancelled', slow);
  for await (const warmUp of client.workflow.list({ query: `WorkflowType = "pixyzWarmUp"` })) {
    await save('warm-up', warmUp.workflowId);
    break;
  }
  await stack.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
