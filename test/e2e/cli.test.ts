// `pixyz`, the command line, against a live stack: upstream client.py's commands, output and exit
// codes, --json, downloads, the 3D shortcuts, from any folder; and in a real terminal (tmux) its
// live bar with the current step, and Ctrl-C asking whether to cancel the job.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { craftZip } from '../helpers/zip';
import { freePort } from '../../src/shared/dev-server';
import { REPO, startStack, type Stack } from '../helpers/stack';

let stack: Stack;
let dir: string;
beforeAll(async () => {
  stack = await startStack();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-cli-'));
  fs.writeFileSync(path.join(dir, 'tri.obj'), 'v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n');
  fs.writeFileSync(path.join(dir, 'slow.ts'), `export async function main(pc: any) { pc.progressSetTotal(20); for (let i = 1; i <= 20; i++) { pc.progressNext('slice ' + i); await new Promise((r) => setTimeout(r, 500)); } return 1; }\n`);
});
afterAll(async () => {
  await stack?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const BIN = path.join(REPO, 'bin', 'pixyz.cjs');
const env = (extra: Record<string, string> = {}) => ({ ...process.env, PIXYZ_URL: stack.url, PIXYZ_API_KEY: stack.key, NO_COLOR: '1', ...extra });

/** Runs `pixyz args…` (not on a terminal); resolves with its exit code and output. */
function pixyz(args: string[], extra: Record<string, string> = {}, cwd = dir): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: env(extra) });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('pixyz', () => {
  it('exec -w -b: a script watched to its end, the exit code says how (0, 10)', async () => {
    const ok = await pixyz(['exec', '-s', path.join(REPO, 'test/fixtures/chatty.ts'), '-p', '{"lines":2}', '-w', '-b']);
    expect(ok).toMatchObject({ code: 0, out: '' });
    const bad = await pixyz(['exec', '-s', path.join(REPO, 'test/fixtures/throws.ts'), '-w', '-b']);
    expect(bad.code).toBe(10);
    expect(bad.out).toBe('Error: the model is broken: no faces\n');
    // Without a terminal, each change is a line of upstream's shape on stderr.
    const watched = await pixyz(['exec', '-s', path.join(REPO, 'test/fixtures/chatty.ts'), '-w']);
    expect(watched.code).toBe(0);
    expect(watched.out).toMatch(/^Job \[ [0-9a-f-]{36} \] completed\n$/);
    expect(watched.err).toMatch(/Job \[ [0-9a-f-]{36} \] progress: 100, status: SUCCESS/);
  });

  it('process, jobs, details, outputs, download, download_all, logs, delete — plain and --json', async () => {
    const submitted = await pixyz(['process', '-n', 'api_test', '-p', '{"hello":"cli"}', '-a', 'from-cli', '-b']);
    expect(submitted.code).toBe(0);
    const id = submitted.out.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const watched = await pixyz(['--json', 'status', '-j', id, '-w']);
    expect(watched.code).toBe(0);
    expect(JSON.parse(watched.out)).toMatchObject({ uuid: id, status: 'SUCCESS', result: { params: { hello: 'cli' } } });
    const listed = JSON.parse((await pixyz(['--json', 'jobs', '-a', 'from-cli'])).out) as { jobs: { uuid: string; process: string; time_request: string }[] };
    expect(listed.jobs.map((j) => j.uuid)).toContain(id);
    const table = (await pixyz(['jobs', '-a', 'from-cli'])).out;
    expect(table).toMatch(/^JOB +STATUS +DONE +SUBMITTED +PROCESS +NAME$/m);
    expect(table).toMatch(new RegExp(`^${id}  SUCCESS  100%  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d  api_test  from-cli$`, 'm'));
    expect(JSON.parse((await pixyz(['--json', 'list'])).out)).toEqual({ processes: expect.arrayContaining(['api_test', 'file_checksum']) });
    // What it ran, when, with what (beyond upstream).
    expect(listed.jobs.find((j) => j.uuid === id)).toMatchObject({ process: 'api_test', time_request: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    const input = await (await fetch(`${stack.url}/jobs/${id}/input`, { headers: { 'x-api-key': stack.key } })).json();
    expect(input).toMatchObject({ process: 'api_test', params: { hello: 'cli' }, name: 'from-cli', file: null, parent_id: null });
    expect(JSON.parse((await pixyz(['details', '-j', id])).out)).toMatchObject({ uuid: id, status: 'SUCCESS' });
    // As the bars show it: the start of the id.
    expect(JSON.parse((await pixyz(['details', '-j', id.slice(0, 8)])).out)).toMatchObject({ uuid: id });
    expect((await pixyz(['details', '-j', 'ab'])).err).toMatch(/^error: Invalid job id 'ab': give its uuid, or at least its first 4 characters/);

    const convert = await pixyz(['process', '-n', 'convert_file', '-i', 'tri.obj', '-p', '{"extension":"obj"}', '-w', '-b']);
    expect(convert.code).toBe(0);
    const jobs = JSON.parse((await pixyz(['--json', 'jobs', '--limit', '1'])).out) as { jobs: { uuid: string }[] };
    const conv = jobs.jobs[0]!.uuid;
    expect(JSON.parse((await pixyz(['outputs', '-j', conv])).out).outputs).toContain('output.obj');
    const dl = await pixyz(['download', '-j', conv, '-f', 'output.obj', '-o', 'got/out.obj']);
    expect(dl).toMatchObject({ code: 0, out: `Job [ ${conv} ] output 'output.obj' downloaded to 'got/out.obj' (${fs.statSync(path.join(dir, 'got/out.obj')).size}B)\n` });
    expect(fs.readFileSync(path.join(dir, 'got/out.obj'), 'utf8')).toMatch(/^v /m);
    // A folder as the destination keeps the file's own name; no -o means here.
    fs.mkdirSync(path.join(dir, 'into'));
    expect((await pixyz(['download', '-j', conv, '-f', 'output.obj', '-o', 'into'])).code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'into', 'output.obj'))).toBe(true);
    const zip = await pixyz(['download_all', '-j', conv]);
    expect(zip.code).toBe(0);
    expect(fs.readFileSync(path.join(dir, `${conv}.zip`)).subarray(0, 2).toString()).toBe('PK');
    expect((await pixyz(['logs', '-j', conv])).out).toMatch(/attempt 1/);
    expect((await pixyz(['delete', '-j', conv])).out).toBe(`Job [ ${conv} ] deleted\n`);
    expect(fs.existsSync(path.join(stack.sharePath, conv))).toBe(false);
  });

  it('convert and metadata: a model in, its outputs written here', async () => {
    const out = await pixyz(['convert', '-i', 'tri.obj', '-o', 'converted']);
    expect(out.code).toBe(0);
    expect(out.out).toBe(`✓ ${path.join('converted', 'output.glb')}\n`);
    expect(fs.readFileSync(path.join(dir, 'converted', 'output.glb')).subarray(0, 4).toString()).toBe('glTF');
    // Again into the same folder: nothing replaced without --force, and it says where the outputs are.
    fs.writeFileSync(path.join(dir, 'converted', 'output.glb'), 'mine');
    const again = await pixyz(['convert', '-i', 'tri.obj', '-o', 'converted']);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/converted\/output\.glb already exists: nothing downloaded\. Choose another -o, or pass --force to replace; the job's outputs stay on the server \(pixyz download_all -j [0-9a-f-]{36}\)/);
    expect(fs.readFileSync(path.join(dir, 'converted', 'output.glb'), 'utf8')).toBe('mine');
    expect((await pixyz(['convert', '-i', 'tri.obj', '-o', 'converted', '--force'])).code).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'converted', 'output.glb')).subarray(0, 4).toString()).toBe('glTF');
    const meta = await pixyz(['--json', 'metadata', '-i', 'tri.obj', '-o', 'meta']);
    expect(meta.code).toBe(0);
    expect(JSON.parse(meta.out)).toMatchObject({ status: 'SUCCESS', files: expect.arrayContaining([path.join('meta', 'metadata.json')]) });
    // A zip of two models: --root-file picks the one to load (the first model file otherwise).
    craftZip(path.join(dir, 'two.zip'), [
      { name: 'a/first.obj', content: 'v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n' },
      { name: 'b/second.obj', content: 'v 0 0 0\nv 1 0 0\nv 0 1 0\nv 1 1 0\nf 1 2 3\nf 2 4 3\n' },
    ]);
    const second = JSON.parse((await pixyz(['--json', 'metadata', '-i', 'two.zip', '--root-file', 'b/second.obj', '-o', 'meta2'])).out);
    expect(second.result.metadata).toMatchObject({ polygon_count: 2 });
    const first = JSON.parse((await pixyz(['--json', 'metadata', '-i', 'two.zip', '-o', 'meta3'])).out);
    expect(first.result.metadata).toMatchObject({ polygon_count: 1 });
  });

  it('cancel; and a watched job that was cancelled exits 11', async () => {
    const id = (await pixyz(['exec', '-s', 'slow.ts', '-b'])).out.trim();
    const watching = pixyz(['status', '-j', id, '-w', '-b']);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await pixyz(['cancel', '-j', id])).out).toBe(`Job [ ${id} ] REVOKED\n`);
    expect((await watching).code).toBe(11);
  });

  it('says what is wrong, in a line: no key, no server, bad params, an unknown job', async () => {
    const noKey = await pixyz(['jobs'], { PIXYZ_API_KEY: '', API_KEY_FILE: path.join(dir, 'none') });
    expect(noKey.code).toBe(1);
    expect(noKey.err).toMatch(/^error: Invalid token.*PIXYZ_API_KEY\)\n$/);
    const closed = await freePort();
    const noServer = await pixyz(['jobs'], { PIXYZ_URL: `http://127.0.0.1:${closed}` });
    expect(noServer.err).toBe(`error: Cannot reach the API at http://127.0.0.1:${closed} (ECONNREFUSED): is it running? (set --url or PIXYZ_URL)\n`);
    expect((await pixyz(['exec', '-s', 'slow.ts', '-p', '{nope'])).err).toMatch(/^error: -p must be JSON/);
    expect((await pixyz(['details', '-j', '00000000-0000-4000-8000-000000000000'])).err).toMatch(/^error: 404: Job '00000000-0000-4000-8000-000000000000' does not exist/);
    expect((await pixyz(['version'])).out).toMatch(/^pixyz-scheduler-client v\d+\.\d+\.\d+\n$/);
    expect((await pixyz(['doc', 'convert_file'])).out).toMatch(/^Process 'convert_file' documentation:/);
    // A URL that is not the API (a web page answers): said so, not a stack trace.
    const page = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><p>hello</p>'));
    await new Promise<void>((r) => page.listen(0, '127.0.0.1', r));
    try {
      const other = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
      const wrong = await pixyz(['list'], { PIXYZ_URL: other });
      expect(wrong).toMatchObject({ code: 1, err: `error: ${other} answered something that is not the Pixyz Scheduler API (text/html): check --url or PIXYZ_URL\n` });
    } finally {
      page.close();
    }
    expect((await pixyz(['open', '-j', '00000000-0000-4000-8000-000000000000'])).out).toBe(`${stack.url}/ui#/jobs/00000000-0000-4000-8000-000000000000\n`);
  });

  it('works from any folder, through a link to it (as `npm link` makes)', async () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-elsewhere-'));
    try {
      fs.symlinkSync(BIN, path.join(elsewhere, 'pixyz'));
      // Asynchronously: the API under test answers from this very process.
      const child = spawn(path.join(elsewhere, 'pixyz'), ['list'], { cwd: elsewhere, env: env() });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const code = await new Promise((resolve) => child.on('close', resolve));
      expect(code).toBe(0);
      expect(out.split('\n')).toContain('convert_file'); // one process a line (--json: the API's answer)
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
describe.skipIf(!hasTmux)('pixyz in a terminal (tmux)', () => {
  const session = `pixyz-${process.pid}`;
  const screen = () => spawnSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' }).stdout;
  const keys = (...k: string[]) => spawnSync('tmux', ['send-keys', '-t', session, ...k]);
  afterAll(() => {
    spawnSync('tmux', ['kill-session', '-t', session]);
  });

  it('shows the upload, a live bar with the current step; Ctrl-C asks, y cancels the job', async () => {
    spawnSync('tmux', ['new-session', '-d', '-s', session, '-x', '130', '-y', '15', 'bash', '--norc', '--noprofile']);
    keys(`cd ${dir} && export PIXYZ_URL=${stack.url} PIXYZ_API_KEY=${stack.key} && clear`, 'Enter');
    keys(`node ${BIN} exec -s slow.ts -w; echo EXIT=$?`, 'Enter');
    const until = async (re: RegExp, ms = 20_000) => {
      const deadline = Date.now() + ms;
      while (!re.test(screen())) {
        if (Date.now() > deadline) throw new Error(`the screen never showed ${re}:\n${screen()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return screen();
    };
    expect(await until(/Upload \[█+\] 100% \| \d+B of \d+B/)).toMatch(/Job \[ [0-9a-f-]{36} \] started/);
    const running = await until(/Job [0-9a-f]{8} \[█*░*\] [1-9]\d?% \| RUNNING slice \d+/);
    console.log(`terminal while watching:\n${running.trimEnd()}`);
    keys('C-c');
    await until(/Cancel job [0-9a-f-]{36}\? \[y\/N\]/);
    keys('y', 'Enter');
    const end = await until(/EXIT=\d+/);
    expect(end).toMatch(/cancel requested/);
    expect(end).toMatch(/\] revoked/);
    expect(end).toMatch(/EXIT=11/);
  });
});
