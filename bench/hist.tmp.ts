import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, Runtime, DefaultLogger } from '@temporalio/worker';
import { ensureTemporalCli } from '../tools/temporal-cli.cjs';
import { freePort, startDevServer } from '../src/shared/dev-server';
Runtime.install({ logger: new DefaultLogger('ERROR') });
(async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-'));
  const server = await startDevServer({ cliPath: ensureTemporalCli().path, port: await freePort(), namespace: 'default', logFile: path.join(tmp, 't.log'), dynamicConfig: JSON.parse(process.env.DC ?? '{}') });
  const nc = await NativeConnection.connect({ address: server.address });
  const nc2 = process.argv[2] === 'two' ? await NativeConnection.connect({ address: server.address }) : nc;
  const conn = await Connection.connect({ address: server.address }); const client = new Client({ connection: conn });
  const bundle = await bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'floor', 'workflows.ts'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } });
  const ws = [await Worker.create({ connection: nc, taskQueue: 'fc', workflowBundle: bundle }), await Worker.create({ connection: nc2, taskQueue: 'fa', activities: { async noop() {} } })];
  const run = Promise.all(ws.map(w => w.run()));
  const lat: number[] = [];
  for (let i = 0; i < 30; i++) { const t = performance.now(); await client.workflow.execute('floorJob', { taskQueue: 'fc', workflowId: `f${i}`, args: [{ activityQueue: 'fa' }] }); lat.push(performance.now() - t); }
  lat.sort((a, b) => a - b); console.log(process.argv[2], 'p50', lat[15]!.toFixed(1), 'p90', lat[27]!.toFixed(1));
  for (const w of ws) w.shutdown(); await run; await nc.close(); if (nc2 !== nc) await nc2.close(); await conn.close(); await server.stop();
})();
