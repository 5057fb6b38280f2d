// The embedded server's settings, measured with Temporal's floor workflow alone (no scheduler):
// latency of one workflow at a time, then 200 started at once (rate, and the machine's CPU per
// workflow), for each storage and matching setting. `npm start` uses the last file-backed row.
//
//   npm run bench:server
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { ensureTemporalCli } from '../tools/temporal-cli.cjs';
import { freePort, SINGLE_HOST_DYNAMIC_CONFIG, SQLITE_PRAGMAS, startDevServer, type DevServerOptions } from '../src/shared/dev-server';
import { machineCpuMs, stats } from './harness';

const BURST = Number(process.env.BENCH_BURST ?? 200);
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };

async function trial(name: string, options: (dir: string) => Partial<DevServerOptions>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-bench-server-'));
  const server = await startDevServer({ cliPath: ensureTemporalCli().path, port: await freePort(), namespace: 'default', logFile: path.join(dir, 'temporal.log'), ...options(dir) });
  const native = await NativeConnection.connect({ address: server.address });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'floor', 'workflows.ts'), logger: quiet });
  const workers = [
    await Worker.create({ connection: native, taskQueue: 'floor-control', workflowBundle }),
    await Worker.create({ connection: native, taskQueue: 'floor-cpu', activities: { async noop() {} } }),
  ];
  const running = Promise.all(workers.map((w) => w.run()));
  let n = 0;
  const one = async () => {
    const t = performance.now();
    await client.workflow.execute('floorJob', { taskQueue: 'floor-control', workflowId: `floor-${n++}`, args: [{ activityQueue: 'floor-cpu' }] });
    return performance.now() - t;
  };
  for (let i = 0; i < 5; i++) await one();
  const latency: number[] = [];
  for (let i = 0; i < 30; i++) {
    latency.push(await one());
    await new Promise((r) => setTimeout(r, 50));
  }
  const cpu0 = machineCpuMs();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: BURST }, () => one()));
  const ms = performance.now() - t0;
  const cpu = (machineCpuMs() - cpu0) / BURST;
  const l = stats(latency);
  console.log(`| ${name} | ${l.median.toFixed(1)} ms | ${l.p90.toFixed(1)} ms | ${((BURST * 1000) / ms).toFixed(1)} /s | ${cpu.toFixed(1)} ms |`);
  for (const w of workers) w.shutdown();
  await running;
  await native.close();
  await connection.close();
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const file = (dir: string) => path.join(dir, 'temporal.db');
  const defaults = { sqlitePragmas: {}, dynamicConfig: {} };
  console.log(`| server | p50 | p90 | ${BURST} at once | machine CPU per workflow |`);
  console.log('|---|---|---|---|---|');
  const partitions = { 'matching.numTaskqueueReadPartitions': 1, 'matching.numTaskqueueWritePartitions': 1 };
  const queueReads = Object.fromEntries(Object.entries(SINGLE_HOST_DYNAMIC_CONFIG).filter(([key]) => key.startsWith('history.')));
  await trial('SQLite file, Temporal defaults', (d) => ({ ...defaults, dbFile: file(d) }));
  await trial('SQLite file, one partition per queue', (d) => ({ ...defaults, dbFile: file(d), dynamicConfig: partitions }));
  await trial("SQLite file, history's queues read up to 1000/s (not 20/s)", (d) => ({ ...defaults, dbFile: file(d), dynamicConfig: queueReads }));
  await trial('SQLite file, WAL + synchronous=normal', (d) => ({ ...defaults, dbFile: file(d), sqlitePragmas: SQLITE_PRAGMAS }));
  await trial('in memory, Temporal defaults', () => defaults);
  await trial('SQLite file, all three (npm start)', (d) => ({ dbFile: file(d) }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
