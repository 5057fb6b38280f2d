// What a user sees when things go wrong: a script that throws, crashes, runs forever and is
// cancelled, returns too much; submissions that are refused; what a script can see.
import fs from 'node:fs';
import os from 'node:os';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { craftTarGz, craftZip } from '../helpers/zip';
import { details, eventually, isAlive, readScript, startStack, submit, waitForEnd, type Stack } from '../helpers/stack';

const fixture = (name: string) => ({ name, content: readScript(`test/fixtures/${name}`) });

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ SCRIPT_MAX_MEMORY_MB: '256' }, {
    ...process.env,
    // What a worker host may hold, that a script must not see.
    TEMPORAL_API_KEY: 'temporal-cloud-secret',
    TEMPORAL_TLS_CLIENT_KEY_PATH: '/secret/key.pem',
    GOD_PASSWORD_SHA256: 'a'.repeat(64),
  });
});
afterAll(async () => {
  await stack?.stop();
});

describe('a script that fails', () => {
  it('fails the job with the script’s own message and stack', async () => {
    const { body } = await submit(stack, { script: fixture('throws.ts') });
    const final = await waitForEnd(stack, body.uuid);
    expect(final.status).toBe('FAILURE');
    expect(final.error).toBe('the model is broken: no faces');
    expect(final.result).toMatch(/Error: the model is broken: no faces\n\s+at main .*throws\.ts:6:9/); // the script's own line, compiled or not
    expect(final.steps).toEqual([{ info: 'Importing file', duration: -1 }]);
    expect(final.retry).toBe(0);
    const state = await (await stack.api(`/jobs/${body.uuid}`)).json();
    expect(state).toMatchObject({ status: 'FAILURE', error: 'the model is broken: no faces' });
  });

  it('retries a script process that exits without a result once, then reports it as such', async () => {
    const { body } = await submit(stack, { script: fixture('exits.ts') });
    const final = await waitForEnd(stack, body.uuid);
    expect(final.status).toBe('FAILURE');
    expect(final.error).toBe('Task process exited with error');
    const outputs = path.join(stack.sharePath, body.uuid, 'outputs');
    expect(fs.readFileSync(path.join(outputs, 'attempts.txt'), 'utf8')).toBe('xx');
    expect(final.retry).toBe(1);
    // Its stderr is in the job's log, attempt by attempt.
    const log = fs.readFileSync(path.join(stack.sharePath, body.uuid, 'logs', `${body.uuid}.log`), 'utf8');
    expect(log.match(/about to crash/g)).toHaveLength(2);
    expect(log).toMatch(/attempt 2/);
  });

  it('runs a crashed script only as many more times as its retries say', async () => {
    const { body } = await submit(stack, { script: fixture('exits.ts'), config: { retries: 0 } });
    const final = await waitForEnd(stack, body.uuid);
    expect(final).toMatchObject({ status: 'FAILURE', error: 'Task process exited with error', retry: 0 });
    expect(fs.readFileSync(path.join(stack.sharePath, body.uuid, 'outputs', 'attempts.txt'), 'utf8')).toBe('x');
  });

  it('runs a script cut short by its worker’s shutdown again on the next worker, without spending a retry', async () => {
    const { body } = await submit(stack, { script: fixture('runs.ts'), config: { retries: 0 } });
    const first = path.join(stack.sharePath, body.uuid, 'outputs', 'run-1.pid');
    const pid = await eventually(() => (fs.existsSync(first) ? Number(fs.readFileSync(first, 'utf8')) : undefined));
    await stack.restartWorkers(); // a deploy: the script gets WORKER_SHUTDOWN_GRACE (1 s), then dies
    // Gone with its worker (once, under a loaded CI, a moment after the restart returned).
    await eventually(() => (isAlive(pid) ? undefined : true), 5_000, 50);
    const final = await waitForEnd(stack, body.uuid);
    expect(final).toMatchObject({ status: 'SUCCESS', result: { runs: 2 }, retry: 0 });
  });

  it('refuses a result too large for Temporal with a message that says what to do', async () => {
    const { body } = await submit(stack, { script: fixture('big-result.ts') });
    const final = await waitForEnd(stack, body.uuid);
    expect(final.status).toBe('FAILURE');
    expect(final.error).toMatch(/over the 1048576-byte limit: write large data to a file in pc.getOutputDir\(\)/);
  });
});

describe('limits', () => {
  it('stops a script at its time limit, kills it, tries once more, then reports a timeout', async () => {
    const { body } = await submit(stack, { script: fixture('forever.ts'), config: { time_limit: 2 } });
    const pidsFile = path.join(stack.sharePath, body.uuid, 'outputs', 'pids.json');
    const first = await eventually(() => (fs.existsSync(pidsFile) ? JSON.parse(fs.readFileSync(pidsFile, 'utf8')) : undefined));
    const retried = await eventually(async () => ((await details(stack, body.uuid)).status === 'RETRY' ? true : undefined), 15_000);
    expect(retried).toBe(true);
    expect(isAlive(first.script) || isAlive(first.child)).toBe(false);
    const final = await waitForEnd(stack, body.uuid);
    expect(final.status).toBe('FAILURE');
    expect(final.error).toBe('Task process timeout');
    // The job's log says why each attempt ended, and the retry says what it follows.
    const log = fs.readFileSync(path.join(stack.sharePath, body.uuid, 'logs', `${body.uuid}.log`), 'utf8');
    expect(log).toMatch(/--- attempt 1 failed: Task process timeout \(2 s\)\n/);
    expect(log).toMatch(/attempt 2 on \S+, after attempt 1 failed: Task process timeout \(2 s\)\n/);
    expect(log).toMatch(/--- attempt 2 failed: Task process timeout \(2 s\)\n/);
    const second = JSON.parse(fs.readFileSync(pidsFile, 'utf8'));
    expect(second.script).not.toBe(first.script);
    // What the killed scripts were writing is gone; another process's temporary file is not theirs.
    expect(fs.readdirSync(path.join(stack.sharePath, body.uuid, 'outputs', 'models'))).toEqual(['.model.glb.1.partial']);
    await eventually(() => (!isAlive(second.script) && !isAlive(second.child) ? true : undefined), 3000, 20);
  });

  it('kills a script over its memory cap and says the process died', async () => {
    const { body } = await submit(stack, { script: fixture('hog.ts') });
    const final = await waitForEnd(stack, body.uuid);
    expect(final.status).toBe('FAILURE');
    expect(final.error).toBe('Task process exited with error');
    const log = fs.readFileSync(path.join(stack.sharePath, body.uuid, 'logs', `${body.uuid}.log`), 'utf8');
    expect(log).toMatch(/heap limit|out of memory/i);
  });
});

describe('cancelling a job', () => {
  it('kills the script’s whole process group within 2 s and reads REVOKED', async () => {
    const { body } = await submit(stack, { script: fixture('forever.ts') });
    const pidsFile = path.join(stack.sharePath, body.uuid, 'outputs', 'pids.json');
    const pids = await eventually(() => (fs.existsSync(pidsFile) ? JSON.parse(fs.readFileSync(pidsFile, 'utf8')) : undefined));
    expect(isAlive(pids.script)).toBe(true);
    expect(isAlive(pids.child)).toBe(true);

    const cancelledAt = Date.now();
    await stack.client.workflow.getHandle(body.uuid).cancel();
    await eventually(() => (!isAlive(pids.script) && !isAlive(pids.child) ? true : undefined), 5000, 20);
    expect(Date.now() - cancelledAt).toBeLessThan(2000);

    const final = await waitForEnd(stack, body.uuid);
    expect(final.status).toBe('REVOKED');
    // How far it got stays readable: its steps, when it started.
    expect(final.steps).toEqual([{ info: 'Waiting forever', duration: -1 }]);
    expect(final.progress).toBe(0);
    expect(final.time_info.started).toMatch(/^\d{4}-\d\d-\d\dT.*\+00:00$/);
    const desc = await stack.client.workflow.getHandle(body.uuid).describe();
    expect(desc.status.name).toBe('CANCELLED');
  });
});

describe('a script', () => {
  it('sees no API key and no Temporal credentials, runs in its outputs directory, at a lower priority', async () => {
    const { body } = await submit(stack, { script: fixture('env.ts') });
    const final = await waitForEnd(stack, body.uuid);
    expect(final.status).toBe('SUCCESS');
    const { keys, jobId, cwd, out, niceness } = final.result;
    // SCRIPT_NICENESS (10): scripts that fill the cores leave the worker and Temporal responsive.
    expect(niceness).toBe(Math.min(19, os.getPriority() + 10));
    expect(keys.filter((k: string) => /^TEMPORAL_|GOD_PASSWORD/.test(k))).toEqual([]);
    expect(keys).toContain('PATH');
    expect(jobId).toBe(body.uuid);
    expect(fs.realpathSync(cwd)).toBe(fs.realpathSync(out));
  });

  it('may be CommonJS and require the SDK from a directory without node_modules', async () => {
    const { body } = await submit(stack, { script: fixture('cjs-require.js'), params: { a: 1 } });
    const final = await waitForEnd(stack, body.uuid);
    expect(final.error).toBeNull();
    // pixyzSchedule's queue was read from the source at submission: it ran on gpu.
    expect(final.result).toEqual({ context: true, queue: 'gpu', params: { a: 1 } });
  });

  it('may be an ES module importing the SDK by name', async () => {
    const { body } = await submit(stack, { script: fixture('esm-sdk.mjs') });
    const final = await waitForEnd(stack, body.uuid);
    expect(final.error).toBeNull();
    expect(final.result).toEqual({ context: true, steps: ['from an ES module'] });
  });

  it('may be an ES module with a plain entrypoint chosen by config', async () => {
    const { body } = await submit(stack, {
      script: fixture('plain.mjs'),
      file: { name: 'part.stl', content: 'solid x\nendsolid x\n' },
      params: { b: [2] },
      config: { entrypoint: 'convert' },
    });
    const final = await waitForEnd(stack, body.uuid);
    expect(final.result).toEqual({ entrypoint: 'convert', input: 'part.stl', params: { b: [2] } });
  });
});

describe('a refused submission', () => {
  const cases: [string, Parameters<typeof submit>[1], RegExp][] = [
    ['no script', { params: {} }, /^'custom' process requires a 'script' file$/],
    ['bad params JSON', { script: fixture('throws.ts'), params: '{nope' }, /^Invalid JSON string for 'params': /],
    ['config that is not an object', { script: fixture('throws.ts'), config: '[1]' }, /^Invalid 'config': expected a JSON object$/],
    ['a missing entrypoint', { script: fixture('throws.ts'), config: { entrypoint: 'nothere' } }, /^The script file does not have the function nothere$/],
    ['an unknown queue', { script: fixture('throws.ts'), config: { queue: 'quantum' } }, /^Invalid queue 'quantum': configured queues are control, cpu, gpu/],
    ['a script in another language', { script: { name: 'main.rb', content: 'def main(pc, params) end' } }, /^The script 'main.rb' must be TypeScript, JavaScript or Python \(\.ts, .*\.py\)$/],
    ['a Python script that does not parse', { script: { name: 'main.py', content: 'def main(pc, params):\nreturn 1\n' } }, /^The script does not parse: expected an indented block after function definition on line 1 \(line 2, column 1\)$/],
    ['a script that does not parse', { script: { name: 'broken.ts', content: 'export function main( {' } }, /^The script does not parse: /],
    ['an unknown process', { process: 'render_hologram' }, /^Invalid process 'render_hologram': the processes are api_test, convert_file, file_checksum, generate_metadata, generate_thumbnails, sleep, thumbnail_chained, or 'custom' with a script$/],
    ['a process that reads models, sent a text file', { process: 'convert_file', file: { name: 'readme.txt', content: 'hello' } }, /^'readme.txt' is not a model this process reads: send glb, gltf, obj, stl, ply, step, stp, iges, igs, brep, brp, ifc, fbx, dae, 3ds, 3mf, off, or a zip or tar of them$/],
    ['a process that reads models, sent none', { process: 'generate_metadata' }, /^'generate_metadata' needs a model: send one as 'file' \(glb, gltf, /],
    ['a negative time limit', { script: fixture('throws.ts'), config: { time_limit: -5 } }, /^Invalid time_limit '-5': a number of seconds above 0, at most 604800$/],
    ['a script whose own time limit is out of range', { script: { name: 'zero.ts', content: 'import { pixyzSchedule } from "pixyz-scheduler";\nexport const main = pixyzSchedule({ timeLimit: 0 }, async () => 1);\n' } }, /^Invalid time_limit '0' \(the script's pixyzSchedule option\): a number of seconds above 0/],
    ['a script over 5 MiB', { script: { name: 'huge.ts', content: `// ${'x'.repeat(6 * 1024 * 1024)}\nexport async function main() {}` } }, /^The script is over 5242880 bytes$/],
  ];
  for (const [what, submission, message] of cases) {
    it(`answers 400 for ${what} and keeps nothing`, async () => {
      const before = fs.readdirSync(stack.sharePath);
      const { status, body } = await submit(stack, submission);
      expect(status).toBe(400);
      expect(body.detail.code).toBe(400);
      expect(body.detail.message).toBe('Bad Request');
      expect(body.detail.details).toMatch(message);
      expect(fs.readdirSync(stack.sharePath)).toEqual(before);
    });
  }
});

describe('an upload cut short', () => {
  it('leaves no file behind, and no open handle on a deleted one', async () => {
    const before = fs.readdirSync(stack.sharePath);
    const boundary = 'cut-short-boundary';
    const url = new URL(`${stack.url}/jobs`);
    const req = http.request({
      host: url.hostname,
      port: url.port,
      path: '/jobs',
      method: 'POST',
      headers: { 'x-api-key': stack.key, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(50_000_000) },
    });
    req.on('error', () => {});
    req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.obj"\r\n\r\n`);
    req.write(Buffer.alloc(2_000_000, 'v'));
    // The part is on its way to disk…
    await eventually(() => (fs.readdirSync(stack.sharePath).length > before.length ? true : undefined));
    req.destroy(); // …when the client goes away.
    await eventually(() => (fs.readdirSync(stack.sharePath).length === before.length ? true : undefined));
    const deleted = await eventually(() => {
      const open = fs
        .readdirSync('/proc/self/fd')
        .map((fd) => {
          try {
            return fs.readlinkSync(`/proc/self/fd/${fd}`);
          } catch {
            return '';
          }
        })
        .filter((target) => target.startsWith(stack.sharePath));
      return open.length === 0 ? open : undefined;
    });
    expect(deleted).toEqual([]);
  });
});

describe('an uploaded archive', () => {
  it('is unpacked and the root file handed to the script', async () => {
    const zipFile = path.join(stack.sharePath, '..', `upload-${process.pid}.zip`);
    craftZip(zipFile, [
      { name: 'readme.txt', content: 'not a model' },
      { name: 'parts/a.obj', content: 'v 0 0 0' },
      { name: 'parts/b.obj', content: 'v 1 1 1' },
    ]);
    const content = fs.readFileSync(zipFile);
    fs.rmSync(zipFile);
    const first = await submit(stack, { script: fixture('plain.mjs'), file: { name: 'model.zip', content }, config: { entrypoint: 'convert' } });
    expect((await waitForEnd(stack, first.body.uuid)).result.input).toBe('a.obj');
    // The log says which file was taken.
    expect(await (await stack.api(`/jobs/${first.body.uuid}/logs`)).text()).toContain("--- no root_file: the input file is 'parts/a.obj', the first model file in 'model.zip'\n");
    const chosen = await submit(stack, {
      script: fixture('plain.mjs'),
      file: { name: 'model.zip', content },
      config: { entrypoint: 'convert', root_file: 'parts/b.obj' },
    });
    expect((await waitForEnd(stack, chosen.body.uuid)).result.input).toBe('b.obj');
    const missing = await submit(stack, {
      script: fixture('plain.mjs'),
      file: { name: 'model.zip', content },
      config: { entrypoint: 'convert', root_file: 'parts/c.obj' },
    });
    const failed = await waitForEnd(stack, missing.body.uuid);
    expect(failed.status).toBe('FAILURE');
    expect(failed.error).toBe("root_file 'parts/c.obj' is not in 'model.zip'");
    expect(await details(stack, missing.body.uuid)).toMatchObject({ status: 'FAILURE' });
  });

  it('is refused at once when its central directory breaks a rule', async () => {
    const zipFile = path.join(stack.sharePath, '..', `slip-${process.pid}.zip`);
    for (const [entries, message] of [
      [[{ name: 'ok.obj', content: 'v' }, { name: '../../escape.obj', content: 'x' }], /^'slip.zip' holds an entry outside the archive/],
      [[{ name: 'link.obj', symlinkTo: '/etc/passwd' }], /^'slip.zip' holds a symbolic link \('link.obj'\); links are refused$/],
    ] as const) {
      craftZip(zipFile, entries as never);
      const before = fs.readdirSync(stack.sharePath);
      const { status, body } = await submit(stack, {
        script: fixture('plain.mjs'),
        file: { name: 'slip.zip', content: fs.readFileSync(zipFile) },
        config: { entrypoint: 'convert' },
      });
      expect(status).toBe(400);
      expect(body.detail.details).toMatch(message);
      expect(fs.readdirSync(stack.sharePath)).toEqual(before);
    }
    fs.rmSync(zipFile);
  });

  it('fails its job, naming the entry and the rule, when only unpacking shows the problem', async () => {
    const tarFile = path.join(stack.sharePath, '..', `bad-${process.pid}.tar.gz`);
    craftTarGz(tarFile, [{ name: 'ok.obj', content: 'v' }, { name: '../../../escape.obj', content: 'x' }]);
    const { body } = await submit(stack, {
      script: fixture('plain.mjs'),
      file: { name: 'model.tar.gz', content: fs.readFileSync(tarFile) },
      config: { entrypoint: 'convert' },
    });
    fs.rmSync(tarFile);
    const final = await waitForEnd(stack, body.uuid);
    expect(final.status).toBe('FAILURE');
    expect(final.error).toBe("'model.tar.gz' holds an entry outside the archive: '../../../escape.obj'");
  });
});
