// The scheduler across hosts: network namespaces with their own addresses on a virtual bridge —
// the Temporal server, the API, two cpu workers, a gpu worker — sharing the share directory as
// hosts share an NFS mount, each role run from the container image's files (deploy/Dockerfile).
// Jobs run across the hosts (Temporal's history names the worker identity of each activity); a
// cpu host killed mid-job has its job finished by the other; the API host never runs a script.
// `npm test` runs one kill; `npm run test:multi-host` MULTI_HOST_ROUNDS of them.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sha256Hex } from '../../src/api/auth';
import { startDevServer, type DevServer } from '../../src/shared/dev-server';
import { ensureTemporalCli } from '../../tools/temporal-cli.cjs';
import { hostsUnavailable, logged, TestNetwork, type Host } from '../helpers/hosts';
import { imageLayout } from '../helpers/image-layout';
import { jobForm, readScript } from '../helpers/stack';

const ROUNDS = Number(process.env.MULTI_HOST_ROUNDS ?? 1);
const unavailable = hostsUnavailable();
if (unavailable) console.log(`multi-host test skipped: ${unavailable}`);
const TSX = pathToFileURL(require.resolve('tsx')).href;
const SCRIPT = { name: 'multi-host.ts', content: readScript('test/fixtures/multi-host.ts') };

describe.skipIf(unavailable !== null)('a network of hosts', () => {
  let net: TestNetwork;
  let hosts: Record<'temporal' | 'api' | 'cpu1' | 'cpu2' | 'gpu', Host>;
  let server: DevServer;
  let client: Client;
  let connection: Connection;
  let image: string;
  let scratch: string;
  let apiUrl: string;
  const key = randomUUID();
  const env = (extra: Record<string, string>): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: `${hosts.temporal.address}:7233`,
    SHARE_PATH: path.join(scratch, 'share'),
    LOG_FORMAT: 'json',
    WORKER_SHUTDOWN_GRACE: '1s',
    ...extra,
  });
  const logOf = (host: Host) => path.join(scratch, 'logs', `${host.name}.log`);
  /** A worker on `host`, run as the image runs it; resolves once it polls. */
  const startWorker = async (host: Host, queues: string) => {
    const start = fs.existsSync(logOf(host)) ? fs.readFileSync(logOf(host), 'utf8').length : 0;
    // The workflow bundle made ahead, as the image's build does (WORKFLOW_BUNDLE).
    host.start(['node', '--import', TSX, path.join(image, 'src', 'cli.ts'), 'worker', '--queues', queues], env({ CONCURRENT_TASKS: '1', RUNNER_POOL_SIZE: '1', WORKFLOW_BUNDLE: inject('workflowBundlePath') }), logOf(host));
    await logged(logOf(host), /worker ready on queues/, 90_000, start);
  };
  const api = (pathname: string, init: RequestInit = {}) => fetch(`${apiUrl}${pathname}`, { ...init, headers: { 'x-api-key': key, ...(init.headers ?? {}) } });
  const submit = async (entrypoint: string, params: unknown) => {
    const res = await api('/jobs', { method: 'POST', body: jobForm({ script: SCRIPT, config: { entrypoint }, params }) });
    const body = (await res.json()) as { uuid: string };
    if (res.status !== 200) throw new Error(`POST /jobs: ${res.status} ${JSON.stringify(body)}\n${fs.readFileSync(logOf(hosts.api), "utf8").slice(-3000)}`);
    return body.uuid;
  };
  const result = (id: string) => client.workflow.getHandle(id).result() as Promise<{ result: any }>;
  /** The worker identity that started each runScript of a workflow, in order. */
  const scriptRunners = async (id: string) => {
    const history = await client.workflow.getHandle(id).fetchHistory();
    return (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.identity!);
  };
  const childrenOf = async (id: string) => {
    const out: string[] = [];
    for await (const wf of client.workflow.list({ query: `ParentWorkflowId = "${id}"` })) out.push(wf.workflowId);
    return out;
  };
  let apiPid: number;

  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-hosts-'));
    image = imageLayout();
    net = new TestNetwork();
    hosts = {
      temporal: net.addHost('temporal', 1),
      api: net.addHost('api', 2),
      cpu1: net.addHost('cpu-1', 11),
      cpu2: net.addHost('cpu-2', 12),
      gpu: net.addHost('gpu-1', 21),
    };
    server = await startDevServer({
      cliPath: ensureTemporalCli().path,
      // All of its host's addresses: its services dial each other on 127.0.0.1.
      ip: '0.0.0.0',
      address: `${hosts.temporal.address}:7233`,
      port: 7233,
      namespace: 'default',
      logFile: path.join(scratch, 'logs', 'temporal.log'),
      wrap: hosts.temporal.wrap,
    });
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection });
    // Both cpu hosts also run the job workflows and the share's steps: either can go.
    await Promise.all([startWorker(hosts.cpu1, 'control,share,cpu'), startWorker(hosts.cpu2, 'control,share,cpu'), startWorker(hosts.gpu, 'gpu')]);
    const child = hosts.api.start(
      ['node', '--import', TSX, path.join(image, 'src', 'cli.ts'), 'api'],
      env({ API_HOST: hosts.api.address, API_PORT: '8001', GOD_PASSWORD_SHA256: sha256Hex(key) }),
      logOf(hosts.api),
    );
    apiPid = child.pid!;
    await logged(logOf(hosts.api), /API listening/, 60_000);
    apiUrl = `http://${hosts.api.address}:8001`;
  }, 240_000);

  afterAll(async () => {
    await connection?.close();
    await net?.destroy();
    await server?.stop().catch(() => {});
    for (const dir of [image, scratch]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs a chained cpu → gpu job, each step on a host of its queue', async () => {
    const id = await submit('chained', {});
    const out = await result(id);
    expect(out.result.cpu).toMatch(/^cpu-[12]$/);
    expect(out.result.gpu).toBe('gpu-1');
    // What Temporal recorded: the job's script on a cpu host, its sub-task's on the gpu host.
    expect(await scriptRunners(id)).toEqual([expect.stringMatching(new RegExp(`@${out.result.cpu}$`))]);
    const [child] = await childrenOf(id);
    expect(await scriptRunners(child!)).toEqual([expect.stringMatching(/@gpu-1$/)]);
  });

  it('spreads a 20-way fan-out over both cpu hosts', async () => {
    const id = await submit('fanOut', { count: 20 });
    const out = await result(id);
    const ran = (out.result as { host: string; i: number }[]).map((r) => r.host);
    expect(ran).toHaveLength(20);
    expect(new Set(ran)).toEqual(new Set(['cpu-1', 'cpu-2']));
    const identities = (await Promise.all((await childrenOf((await childrenOf(id))[0]!)).map(scriptRunners))).flat();
    expect(identities).toHaveLength(20);
    expect(new Set(identities.map((i) => i.split('@')[1]))).toEqual(new Set(['cpu-1', 'cpu-2']));
    console.log(`multi-host: fan-out of 20 — ${ran.filter((h) => h === 'cpu-1').length} on cpu-1, ${ran.filter((h) => h === 'cpu-2').length} on cpu-2`);
  });

  it('finishes a job on the other cpu host when its host is killed mid-job', async () => {
    const recoveries: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const id = await submit('slow', { ms: 4000 });
      // Which host runs it: the pending runScript's worker.
      let runner = '';
      for (let i = 0; i < 300 && !/@cpu-[12]$/.test(runner); i++) {
        const pending = (await client.workflow.getHandle(id).describe()).raw.pendingActivities?.find((a) => a.activityType?.name === 'runScript');
        runner = pending?.lastWorkerIdentity ?? '';
        if (!/@cpu-[12]$/.test(runner)) await new Promise((r) => setTimeout(r, 100));
      }
      expect(runner).toMatch(/@cpu-[12]$/);
      const victim = runner.endsWith('@cpu-1') ? hosts.cpu1 : hosts.cpu2;
      const survivor = victim === hosts.cpu1 ? hosts.cpu2 : hosts.cpu1;
      const killedAt = Date.now();
      await victim.kill();
      const out = await result(id);
      recoveries.push((Date.now() - killedAt) / 1000);
      expect(out.result.host).toBe(survivor.name);
      const runners = await scriptRunners(id);
      expect(runners.at(-1)).toMatch(new RegExp(`@${survivor.name}$`));
      // The host comes back for the next round.
      await startWorker(victim, 'control,share,cpu');
    }
    console.log(`multi-host: cpu host SIGKILLed mid-job, ${ROUNDS} round(s) — every job SUCCESS on the other host; recovery (kill → SUCCESS) ${recoveries.map((s) => `${s.toFixed(1)} s`).join(', ')}`);
  }, 120_000 * ROUNDS);

  it('never runs a script on the API host', async () => {
    // Its processes are the API and the dashboard's bundler (esbuild's service), never a script
    // process; and no activity of any job ran under its name.
    const processes = hosts.api.pids().map((pid) => ({ pid, cmd: fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ') }));
    expect(processes.map((p) => p.pid)).toContain(apiPid);
    for (const p of processes) expect(p.cmd, `pid ${p.pid}`).toMatch(p.pid === apiPid ? /src\/cli\.ts api/ : /esbuild.* --service=/);
    const all: string[] = [];
    for await (const wf of client.workflow.list({ query: 'WorkflowType = "pixyzJob"' })) all.push(...(await scriptRunners(wf.workflowId)));
    expect(all.length).toBeGreaterThan(20);
    expect(all.filter((identity) => identity.endsWith('@api'))).toEqual([]);
  });
});
