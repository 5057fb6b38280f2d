// The container image's roles as an orchestrator runs them: `src/cli.ts api | worker | all`, each
// a process of its own with liveness and readiness probes, stopped by a SIGTERM sent to it alone,
// its last log line saying so.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '../../src/shared/config';

const TSX = pathToFileURL(require.resolve('tsx')).href;
const CLI = path.join(REPO_ROOT, 'src', 'cli.ts');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-roles-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

interface Role {
  child: ChildProcess;
  /** JSON log lines so far. */
  lines: () => { msg: string }[];
  /** Resolves with the first log line that matches. */
  logged: (re: RegExp) => Promise<string>;
  exit: Promise<number | null>;
}

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { TEMPORAL_ADDRESS: _, ...rest } = process.env;
  return {
    ...rest,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    SHARE_PATH: path.join(scratch, 'share'),
    TASK_QUEUE_PREFIX: `roles-${randomUUID().slice(0, 8)}-`,
    LOG_FORMAT: 'json',
    WORKER_SHUTDOWN_GRACE: '1s',
    ...extra,
  };
}

function start(args: string[], environment: NodeJS.ProcessEnv): Role {
  // Run from an empty directory: no .env of the developer's is read.
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd: scratch, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters: { re: RegExp; resolve: (line: string) => void }[] = [];
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    for (const w of [...waiters]) {
      const line = out.split('\n').find((l) => w.re.test(l));
      if (line) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    exit,
    lines: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg: string }),
    logged: (re) =>
      new Promise<string>((resolve, reject) => {
        const line = out.split('\n').find((l) => re.test(l));
        if (line) return resolve(line);
        waiters.push({ re, resolve });
        void exit.then((code) => reject(new Error(`exited ${code} before logging ${re}:\n${out}`)));
      }),
  };
}

const portIn = (line: string) => Number(/:(\d+)/.exec(JSON.parse(line).msg as string)![1]);
const get = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as { status: string; detail?: string } };
};

describe('src/cli.ts', () => {
  it('refuses an unknown role, or `all` without a Temporal server to run against, with its usage', () => {
    const run = (args: string[]) => spawnSync(process.execPath, ['--import', TSX, CLI, ...args], { cwd: scratch, env: { ...env(), TEMPORAL_ADDRESS: '' }, encoding: 'utf8' });
    const none = run([]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/no role given\nusage: pixyz-scheduler api \| worker/);
    expect(run(['scheduler']).stderr).toMatch(/unknown role 'scheduler'/);
    const all = run(['all']);
    expect(all.status).toBe(2);
    expect(all.stderr).toMatch(/set TEMPORAL_ADDRESS/);
  });

  it('api: alive and ready while Temporal answers; SIGTERM stops it, its last line says so', async () => {
    const api = start(['api'], env({ API_PORT: '0', API_HOST: '127.0.0.1' }));
    const port = portIn(await api.logged(/API listening/));
    expect(await get(`http://127.0.0.1:${port}/livez`)).toEqual({ status: 200, body: { status: 'alive' } });
    expect(await get(`http://127.0.0.1:${port}/readyz`)).toMatchObject({ status: 200, body: { status: 'ready' } });
    api.child.kill('SIGTERM');
    expect(await api.exit).toBe(0);
    expect(api.lines().at(-1)?.msg).toBe('stopped');
  });

  it('all: the API and a worker of every queue in one process, no key generated; SIGTERM to it alone stops both, its last line says so', async () => {
    const keyFile = path.join(scratch, 'api-key');
    const all = start(['all'], env({ API_PORT: '0', API_HOST: '127.0.0.1', GOD_PASSWORD_SHA256: '', API_KEY_FILE: keyFile }));
    // An operator's deployment: no key is made up into the image's files, and it says so.
    await all.logged(/GOD_PASSWORD_SHA256 is not set: every \/jobs route answers 401/);
    const port = portIn(await all.logged(/API listening/));
    await all.logged(/worker ready on queues/);
    expect((await get(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    all.child.kill('SIGTERM');
    expect(await all.exit).toBe(0);
    const messages = all.lines().map((l) => l.msg);
    expect(messages).toContain('SIGTERM: stopping');
    expect(messages.at(-1)).toBe('stopped');
    expect(fs.existsSync(keyFile)).toBe(false);
  });

  it('worker: ready once it polls its queues; SIGTERM drains it and stops it, its last line says so', async () => {
    const worker = start(['worker', '--queues', 'cpu'], env({ WORKER_HEALTH_PORT: '0' }));
    const port = portIn(await worker.logged(/probes on :\d+/));
    await worker.logged(/worker ready on queues/);
    await expect.poll(async () => (await get(`http://127.0.0.1:${port}/readyz`)).status, { timeout: 10_000 }).toBe(200);
    expect((await get(`http://127.0.0.1:${port}/readyz`)).body.detail).toBe('cpu: RUNNING');
    // Its job metrics, for Prometheus (the API's /metrics has them only when in one process).
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^# HELP pixyz_jobs_finished_total /m);
    worker.child.kill('SIGTERM');
    expect(await worker.exit).toBe(0);
    const messages = worker.lines().map((l) => l.msg);
    expect(messages).toContain('SIGTERM: stopping (running scripts get 1 s to finish)');
    expect(messages.at(-1)).toBe('stopped');
  });
});
