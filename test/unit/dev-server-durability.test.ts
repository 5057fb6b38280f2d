// The embedded server keeps its SQLite file in WAL mode, synced at checkpoints: jobs must still
// survive a crash of `npm start` (the server killed outright) and come back with it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, expect, it } from 'vitest';
import { ensureTemporalCli } from '../../tools/temporal-cli.cjs';
import { freePort, startDevServer, type DevServer } from '../../src/shared/dev-server';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-durable-'));
let server: DevServer | undefined;
afterAll(async () => {
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function start(port: number): Promise<{ server: DevServer; client: Client; connection: Connection }> {
  const s = await startDevServer({ cliPath: ensureTemporalCli().path, port, namespace: 'default', dbFile: path.join(dir, 'temporal.db'), logFile: path.join(dir, 'temporal.log') });
  const connection = await Connection.connect({ address: s.address });
  return { server: s, client: new Client({ connection }), connection };
}

it('workflows started and ended before a kill -9 of the server are there after its restart', async () => {
  const port = await freePort();
  let s = await start(port);
  server = s.server;
  // Nobody serves this queue: the first stays running; the second is ended by hand.
  const queue = `durable-${process.pid}`;
  await s.client.workflow.start('pixyzJob', { taskQueue: queue, workflowId: `${queue}-running`, args: [{}] });
  const ended = await s.client.workflow.start('pixyzJob', { taskQueue: queue, workflowId: `${queue}-ended`, args: [{}] });
  await ended.terminate('ended before the crash');
  await s.connection.close();
  expect(fs.existsSync(path.join(dir, 'temporal.db-wal'))).toBe(true); // write-ahead log mode is on
  process.kill(-server.process.pid!, 'SIGKILL');
  await new Promise((r) => server!.process.once('exit', r));
  expect(fs.readFileSync(path.join(dir, 'temporal.log'), 'utf8')).not.toMatch(/panic/);

  s = await start(port);
  server = s.server;
  expect((await s.client.workflow.getHandle(`${queue}-running`).describe()).status.name).toBe('RUNNING');
  expect((await s.client.workflow.getHandle(`${queue}-ended`).describe()).status.name).toBe('TERMINATED');
  await s.connection.close();
}, 60_000);
