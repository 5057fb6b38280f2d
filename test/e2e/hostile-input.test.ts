// Issue #12, hostile input: what a client sends to break the API gets a 4xx (or, for a job, a
// FAILURE) that says why, leaves nothing behind on disk, and the server keeps answering.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { ORPHAN_AFTER_MS, startOrphanSweeper } from '../../src/api/orphans';
import { setSubmissionTouchMs } from '../../src/api/submit';
import { craftTarGz, craftZip } from '../helpers/zip';
import { eventually, readScript, startStack, submit, waitForEnd, type Stack } from '../helpers/stack';

const fixture = (name: string) => ({ name, content: readScript(`test/fixtures/${name}`) });
let stack: Stack;
let scratch: string; // test archives are made here, outside the share
beforeAll(async () => {
  stack = await startStack({ MAX_EXTRACT_BYTES: '1M' });
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-hostile-'));
});
afterAll(async () => {
  await stack?.stop();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** Every file under `dir`, relative to it, sorted. */
function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((d) => !d.isDirectory())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)))
    .sort();
}

/** An archive made by `craft` in the scratch directory, as bytes. */
function archive(name: string, craft: (file: string) => void): { name: string; content: Buffer } {
  const file = path.join(scratch, name);
  craft(file);
  const content = fs.readFileSync(file);
  fs.rmSync(file);
  return { name, content };
}

/** A zip whose entries are stored uncompressed (their bytes appear as they are in the file). */
function storedZip(file: string, entries: { name: string; content: string }[]): void {
  const script = `
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_STORED) as z:
    for e in json.loads(sys.stdin.read()):
        z.writestr(e['name'], e['content'])
`;
  const res = spawnSync('python3', ['-c', script, file], { input: JSON.stringify(entries), encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`storedZip failed: ${res.stderr}`);
}

describe('JSON nested too deeply', () => {
  const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

  it('is refused with 400 naming the depth limit, in params and config alike, leaving nothing behind', async () => {
    const before = fs.readdirSync(stack.sharePath);
    for (const [field, form] of [
      ['params', { process: 'api_test', params: nested(100_000) }],
      ['config', { process: 'api_test', config: `{"entrypoint":${nested(100_000)}}` }],
      ['params', { process: 'api_test', params: `{"a":${nested(64)}}` }], // 65 levels: one too many
      ['params', { script: fixture('throws.ts'), params: `{"a":${'{"b":'.repeat(70)}1${'}'.repeat(70)}}` }],
    ] as const) {
      const { status, body } = await submit(stack, form);
      expect(status).toBe(400);
      expect(body.detail).toEqual({
        code: 400,
        message: 'Bad Request',
        details: `Invalid JSON string for '${field}': nested more than 64 levels deep (the limit)`,
      });
    }
    expect(fs.readdirSync(stack.sharePath)).toEqual(before);
    expect((await fetch(`${stack.url}/`)).status).toBe(200);
  });

  it('is accepted up to the limit; brackets inside strings do not count', async () => {
    const params = `{"a":${nested(63)},"s":"${'['.repeat(1000)}\\"{"}`;
    const { status, body } = await submit(stack, { process: 'api_test', params });
    expect(status).toBe(200);
    const final = await waitForEnd(stack, body.uuid);
    expect(final.status).toBe('SUCCESS');
    expect(final.result.params).toEqual(JSON.parse(params));
  });
});

describe('an archive whose unpacking fails part-way', () => {
  it('fails its job with the reason and removes everything it unpacked', async () => {
    const big = 'v 0 0 0\n'.repeat(90_000); // 720 KB: two are over MAX_EXTRACT_BYTES (1 MiB)
    const cases: { file: { name: string; content: Buffer }; error: string | RegExp; rootFile?: string }[] = [
      {
        // A bomb only unpacking shows (a .tar.gz has no directory to inspect at POST).
        file: archive('bomb.tar.gz', (f) => craftTarGz(f, [{ name: 'a/one.obj', content: big }, { name: 'a/two.obj', content: big }])),
        error: `'bomb.tar.gz' unpacks to more than ${2 ** 20} bytes (MAX_EXTRACT_BYTES)`,
      },
      {
        // Every entry unpacked, then the gzip trailer's CRC does not match.
        file: archive('crc.tar.gz', (f) => {
          craftTarGz(f, [{ name: 'a/one.obj', content: 'v 0 0 0\n' }, { name: 'a/two.obj', content: 'v 1 1 1\n' }]);
          const bytes = fs.readFileSync(f);
          bytes[bytes.length - 8]! ^= 0xff;
          fs.writeFileSync(f, bytes);
        }),
        error: /^'crc.tar.gz' could not be unpacked: .*check/,
      },
      {
        // A zip entry whose bytes do not match its CRC: a damaged archive, not a model.
        file: archive('crc.zip', (f) => {
          storedZip(f, [{ name: 'a/one.obj', content: 'v 0 0 0\n' }, { name: 'a/two.obj', content: 'v 1 1 1 DAMAGED-HERE\n' }]);
          const bytes = fs.readFileSync(f);
          const at = bytes.indexOf('DAMAGED-HERE');
          bytes.write('damaged-here', at);
          fs.writeFileSync(f, bytes);
        }),
        error: "'crc.zip' is damaged: the data of 'a/two.obj' does not match its CRC",
      },
      {
        // A file, then a folder of the same name.
        file: archive('clash.zip', (f) => craftZip(f, [{ name: 'part.obj', content: 'v 0 0 0' }, { name: 'part.obj/inner.obj', content: 'v' }])),
        error: /^'clash.zip' could not be unpacked: /,
      },
      {
        // A name longer than the file system allows, after a good entry.
        file: archive('long.zip', (f) => craftZip(f, [{ name: 'a/ok.obj', content: 'v 0 0 0' }, { name: `a/${'x'.repeat(300)}.obj`, content: 'v' }])),
        error: /^'long.zip' could not be unpacked: /,
      },
      {
        // Unpacked whole, but the root file asked for is not in it: the job fails before its script.
        file: archive('other.zip', (f) => craftZip(f, [{ name: 'a/ok.obj', content: 'v 0 0 0' }])),
        rootFile: 'a/missing.obj',
        error: "root_file 'a/missing.obj' is not in 'other.zip'",
      },
    ];
    const ids = await Promise.all(
      cases.map(async ({ file, rootFile }) => {
        const config = { entrypoint: 'convert', ...(rootFile ? { root_file: rootFile } : {}) };
        const { status, body } = await submit(stack, { script: fixture('plain.mjs'), file, config });
        expect(status, `${file.name}: ${JSON.stringify(body)}`).toBe(200);
        return body.uuid as string;
      }),
    );
    for (const [i, { file, error }] of cases.entries()) {
      const final = await waitForEnd(stack, ids[i]!);
      expect(final.status, file.name).toBe('FAILURE');
      expect(final.error, file.name).toMatch(error);
      expect(final.error, file.name).not.toContain(stack.sharePath); // no server paths in messages
      // Only the uploads themselves stay in inputs/: nothing unpacked is left.
      expect(filesUnder(path.join(stack.sharePath, ids[i]!, 'inputs')), file.name).toEqual([file.name, 'plain.mjs'].sort());
    }
  });
});

describe('a zip made on macOS', () => {
  it('has its __MACOSX/._* resource forks and .DS_Store skipped when choosing the model', async () => {
    const appleDouble = '\u0000\u0005\u0016\u0007\u0000\u0002\u0000\u0000Mac OS X        ';
    const file = archive('mac.zip', (f) =>
      craftZip(f, [
        { name: '.DS_Store', content: '\u0000\u0000\u0000\u0001Bud1' },
        { name: '__MACOSX/._.DS_Store', content: appleDouble },
        { name: 'model/.DS_Store', content: '\u0000\u0000\u0000\u0001Bud1' },
        { name: 'model/._part.obj', content: appleDouble },
        { name: 'model/part.obj', content: 'v 0 0 0' },
        { name: '__MACOSX/model/._part.obj', content: appleDouble },
      ]),
    );
    const { body } = await submit(stack, { script: fixture('plain.mjs'), file, config: { entrypoint: 'convert' } });
    const final = await waitForEnd(stack, body.uuid);
    expect(final.status).toBe('SUCCESS');
    expect(final.result.input).toBe('part.obj');
    expect(await (await stack.api(`/jobs/${body.uuid}/logs`)).text()).toContain("the input file is 'model/part.obj', the first model file in 'mac.zip'");
  });
});

describe('a workflow of the namespace that is not a job', () => {
  it('is answered 404 by every job route, and left alone', async () => {
    const id = randomUUID();
    // Another workflow type, on a queue nobody serves: it stays running.
    const handle = await stack.client.workflow.start('someOtherWorkflow', { taskQueue: `nobody-${id}`, workflowId: id, args: [] });
    try {
      const gone = { code: 404, message: 'Not Found', details: `Job '${id}' does not exist` };
      for (const [method, route, expected] of [
        ['GET', `/jobs/${id}`, gone],
        ['GET', `/jobs/${id}/details`, gone],
        ['POST', `/jobs/${id}/cancel`, gone],
        ['DELETE', `/jobs/${id}`, gone],
        ['GET', `/jobs/${id}/logs`, gone],
        ['GET', `/jobs/${id}/outputs/archive`, { ...gone, details: `SharePathNotFoundError: Job '${id}' does not exist` }],
      ] as const) {
        const res = await stack.api(route, { method });
        expect(res.status, `${method} ${route}`).toBe(404);
        expect(((await res.json()) as any).detail, `${method} ${route}`).toEqual(expected);
      }
      // Upstream's meta answers PENDING for any id it does not know.
      expect(await (await stack.api(`/backend/get_task_meta/${id}`)).json()).toMatchObject({ status: 'PENDING', result: null, task_id: id });
      // Not cancelled by the cancel or delete above.
      const history = await handle.fetchHistory();
      expect(history.events?.some((e) => e.workflowExecutionCancelRequestedEventAttributes)).toBe(false);
      expect((await handle.describe()).status.name).toBe('RUNNING');
    } finally {
      await handle.terminate('test over');
    }
  });
});

describe('GET /jobs with a made-up page token or a NUL in a filter', () => {
  it('is refused at once with 400 saying which', async () => {
    const t0 = Date.now();
    for (const next of ['AAAAAAAAAAAAAAAAAAAA', '5e-324', 'x']) {
      const res = await stack.api(`/jobs?next=${next}`);
      expect(res.status, next).toBe(400);
      expect(((await res.json()) as any).detail.details).toBe('Invalid next token: pass on the one the previous page gave');
    }
    for (const filter of ['name', 'process']) {
      const res = await stack.api(`/jobs?${filter}=a%00b`);
      expect(res.status, filter).toBe(400);
      expect(((await res.json()) as any).detail.details).toBe(`Invalid ${filter} 'a\u0000b': a NUL character is not accepted`);
    }
    expect(Date.now() - t0).toBeLessThan(3000); // Temporal took ~20 s to fail on each
  });
});

/**
 * Sends `parts` over a raw socket, a pause between them (as a client on a real network does), and
 * returns all the server answers until it closes, or the socket's error.
 */
function rawExchange(parts: string[]): Promise<{ answer: string; error: string | null }> {
  const url = new URL(stack.url);
  return new Promise((resolve) => {
    // Half-open allowed: the client goes on sending its request after the server's answer, as an
    // HTTP client does.
    const socket = net.connect({ port: Number(url.port), host: url.hostname, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let error: string | null = null;
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (err) => (error = (err as NodeJS.ErrnoException).code ?? err.message));
    socket.on('close', () => resolve({ answer: Buffer.concat(chunks).toString('latin1'), error }));
    void (async () => {
      for (const [i, part] of parts.entries()) {
        if (i > 0) await new Promise((r) => setTimeout(r, 100));
        if (socket.destroyed) return;
        if (i === parts.length - 1) socket.end(part);
        else socket.write(part);
      }
    })();
  });
}

describe('an upload its client stalls for over a minute', () => {
  it('keeps its directory fresh, so that no orphan sweep takes it, and leaves nothing once abandoned', async () => {
    setSubmissionTouchMs(200);
    const sweeper = startOrphanSweeper({ sharePath: stack.sharePath, client: stack.client, log: pino({ level: 'silent' }) });
    const before = new Set(fs.readdirSync(stack.sharePath));
    const url = new URL(`${stack.url}/jobs`);
    const socket = net.connect(Number(url.port), url.hostname);
    try {
      const boundary = 'stalled';
      const head = `--${boundary}\r\nContent-Disposition: form-data; name="script"; filename="s.ts"\r\n\r\nexport async function main() { return 1; }\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.obj"\r\n\r\nv 0 0 0\n`;
      socket.write(`POST /jobs HTTP/1.1\r\nHost: ${url.host}\r\nx-api-key: ${stack.key}\r\ncontent-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: ${head.length + 1000}\r\n\r\n${head}`);
      const dir = await eventually(() => fs.readdirSync(stack.sharePath).find((d) => !before.has(d) && fs.existsSync(path.join(stack.sharePath, d, 'inputs', 'big.obj'))));
      // Its client sends nothing more; a minute passes (every write is dated back): a sweep leaves it.
      const old = new Date(Date.now() - 2 * 60_000);
      const root = path.join(stack.sharePath, dir);
      for (const p of [path.join(root, 'inputs', 'big.obj'), path.join(root, 'inputs', 's.ts'), path.join(root, 'inputs'), root]) if (fs.existsSync(p)) fs.utimesSync(p, old, old);
      await eventually(() => (Date.now() - fs.statSync(root).mtimeMs < 60_000 ? true : undefined), 5_000, 50);
      expect(await sweeper.sweep()).not.toContain(dir);
      expect(fs.existsSync(path.join(root, 'inputs', 'big.obj'))).toBe(true);
      // The client goes away: the submission removes what it had stored.
      socket.destroy();
      await eventually(() => (fs.existsSync(root) ? undefined : true), 5_000, 50);
    } finally {
      socket.destroy();
      sweeper.stop();
      setSubmissionTouchMs(ORPHAN_AFTER_MS / 4);
    }
  });
});

describe('uploads one after another on one kept-alive connection', () => {
  it('leave no listener behind on the connection (no MaxListenersExceededWarning, no request kept alive by it)', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const url = new URL(`${stack.url}/jobs`);
    try {
      const boundary = 'kept-alive';
      const body = `--${boundary}\r\nContent-Disposition: form-data; name="script"; filename="s.ts"\r\n\r\nexport async function main() { return 1; }\r\n--${boundary}--\r\n`;
      const reused: boolean[] = [];
      for (let i = 0; i < 15; i++) {
        const status = await new Promise<number>((resolve, reject) => {
          const req = http.request(url, { method: 'POST', agent, headers: { 'x-api-key': stack.key, 'content-type': `multipart/form-data; boundary=${boundary}` } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode!));
          });
          req.on('error', reject);
          req.end(body);
          reused.push(req.reusedSocket);
        });
        expect(status).toBe(200); // each a job (upstream answers 200)
      }
      expect(reused.slice(1).every(Boolean)).toBe(true); // one connection throughout
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      agent.destroy();
    }
  });
});

describe('a request header of 100 KB', () => {
  it('gets 431 Request Header Fields Too Large, not a reset, and the server keeps answering', async () => {
    const part = 'a'.repeat(25_000);
    const { answer, error } = await rawExchange([`GET /processes HTTP/1.1\r\nHost: x\r\nX-Big: ${part}`, part, part, `${part}\r\n\r\n`]);
    expect(error).toBeNull();
    expect(answer).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(answer).toMatch(/\r\nConnection: close\r\n/i);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({
      detail: { code: 431, message: 'Request Header Fields Too Large', details: 'The request headers are over 16384 bytes' },
    });
    const res = await fetch(`${stack.url}/processes`, { headers: { 'x-big': 'a'.repeat(100_000) } });
    expect(res.status).toBe(431);
    expect((await fetch(`${stack.url}/processes`)).status).toBe(200);
  });

  it('a request the HTTP parser cannot read gets 400, with the same body', async () => {
    const { answer, error } = await rawExchange(['NOT\u0001HTTP AT ALL\r\n\r\n']);
    expect(error).toBeNull();
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).detail).toMatchObject({ code: 400, message: 'Bad Request' });
  });
});

// ---------------------------------------------------------------------------------------------
// Property-based fuzzing of the live API: requests built from the OpenAPI document it serves
// (its routes, their parameters and the JSON Schemas of SubmitForm, SubmitConfig and the listing's
// query), mixed with hostile values. Whatever they are, no answer is a 5xx or a dropped connection.

const FUZZ_ROUTE_RUNS = 800;
const FUZZ_SUBMIT_RUNS = 300;
const FUZZ_RAW_RUNS = 30;
/** A failure is reported as found, with its seed, not shrunk: shrinking over HTTP takes too long. */
const FUZZ_OPTIONS = { endOnFailure: true } as const;

/** Strings a hostile client tries. */
const HOSTILE = [
  '', ' ', '.', '..', '../..', '../../etc/passwd', '%2e%2e%2f', '%00', '\u0000', '\\', '/', '//', '?', '#', '*', '"', "'",
  '\r\nX-Injected: 1', '\ud800', '\uffff', 'é', '😀', 'CON', 'null', 'undefined', '[]', '{}', '__proto__', 'constructor',
  '-1', '0', '1e309', 'NaN', 'Infinity', '9'.repeat(40), 'a'.repeat(5000), '" OR 1=1 --', '${x}', '%s%s%s%n',
];
const text = fc.oneof(
  { arbitrary: fc.string({ maxLength: 30 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 30 }), weight: 2 },
  { arbitrary: fc.constantFrom(...HOSTILE), weight: 3 },
);
const anyJson = fc.jsonValue({ maxDepth: 3 });
const nestedText = fc.integer({ min: 1, max: 300 }).map((n) => '['.repeat(n) + ']'.repeat(n));
/** Text for a field that holds JSON: JSON, broken JSON, deep JSON, or anything. */
const jsonText = (value: fc.Arbitrary<unknown> = anyJson) =>
  fc.oneof(
    { arbitrary: value.map((v) => JSON.stringify(v) ?? 'null'), weight: 4 },
    { arbitrary: nestedText, weight: 1 },
    { arbitrary: text, weight: 2 },
    { arbitrary: value.map((v) => (JSON.stringify(v) ?? '').slice(0, -1)), weight: 1 },
  );

/** Values of a JSON Schema (as the OpenAPI document gives it), now and then anything else. */
function fromSchema(schema: any, spec: any): fc.Arbitrary<unknown> {
  if (schema?.$ref) return fromSchema(schema.$ref.split('/').slice(1).reduce((o: any, k: string) => o[k], spec), spec);
  let typed: fc.Arbitrary<unknown>;
  if (schema?.enum) typed = fc.constantFrom(...(schema.enum as unknown[]));
  else if (schema?.type === 'string') {
    const options: fc.Arbitrary<unknown>[] = [text];
    if (schema.pattern) options.push(fc.stringMatching(new RegExp(schema.pattern)));
    if (schema.maxLength) options.push(fc.string({ minLength: schema.maxLength - 1, maxLength: schema.maxLength + 2 }));
    typed = fc.oneof(...options);
  } else if (schema?.type === 'integer' || schema?.type === 'number') {
    const low = schema.minimum ?? schema.exclusiveMinimum ?? -1000;
    const high = schema.maximum ?? schema.exclusiveMaximum ?? 1000;
    const around = fc.constantFrom(low - 1, low, high, high + 1, 0, -1, 2 ** 53, -(2 ** 31));
    typed = fc.oneof(around, fc.integer({ min: low - 2, max: high + 2 }), ...(schema.type === 'number' ? [fc.double()] : []));
  } else if (schema?.type === 'boolean') typed = fc.boolean();
  else if (schema?.type === 'object' && schema.properties) {
    const fields = Object.fromEntries(Object.entries(schema.properties).map(([k, s]) => [k, fromSchema(s, spec)]));
    typed = fc.record(fields, { requiredKeys: [] });
  } else typed = anyJson;
  return fc.oneof({ arbitrary: typed, weight: 4 }, { arbitrary: anyJson, weight: 1 });
}

const asParam = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v) ?? '');

describe('fuzzed requests against the live API', () => {
  it('never get a 5xx or a dropped connection, and leave nothing behind', async () => {
    const started = Date.now();
    const spec = (await (await fetch(`${stack.url}/openapi.json`)).json()) as any;
    const known = await submit(stack, { process: 'api_test', params: { fuzz: true } });
    await waitForEnd(stack, known.body.uuid);
    const shareBefore = new Set(fs.readdirSync(stack.sharePath));
    const answers = new Map<number, number>();
    const count = (status: number) => answers.set(status, (answers.get(status) ?? 0) + 1);

    /** Sends one request; its status, with what was sent when it is a 5xx. */
    const accepted: string[] = [];
    const send = async (method: string, url: string, init: RequestInit = {}, withKey = true) => {
      const headers = { ...(withKey ? { 'x-api-key': stack.key } : {}), ...(init.headers as Record<string, string>) };
      let res: Response;
      try {
        res = await fetch(`${stack.url}${url}`, { ...init, method, headers, signal: AbortSignal.timeout(15_000) });
      } catch (err) {
        throw new Error(`${method} ${url}: no answer (${(err as Error).message})`);
      }
      const body = await res.text();
      count(res.status);
      expect(res.status, `${method} ${url} -> ${res.status} ${body.slice(0, 300)}`).toBeLessThan(500);
      // A job run again is a job the fuzzing started too: it goes at the end with the others.
      if (method === 'POST' && /\/rerun$/.test(url.split('?')[0]!) && res.status === 200) accepted.push(JSON.parse(body).uuid);
      return { status: res.status, body };
    };

    // Every route of the document but POST /jobs (fuzzed below, as a form), its path parameters
    // and query parameters drawn from their schemas.
    const operations = Object.entries(spec.paths as Record<string, Record<string, any>>).flatMap(([template, ops]) =>
      Object.entries(ops)
        .filter(([method]) => !(template === '/jobs' && method === 'post'))
        .map(([method, op]) => ({ template, method: method.toUpperCase(), op })),
    );
    const pathValue: Record<string, fc.Arbitrary<string>> = {
      id: fc.oneof(fc.uuid(), fc.constant(known.body.uuid as string), fc.constant((known.body.uuid as string).toUpperCase()), text),
      file_path: fc.oneof(text, fc.constantFrom('../state.json', '../../../etc/passwd', 'a/../../state.json', '%2e%2e/state.json', 'x/y/z')),
      name: fc.oneof(text, fc.constantFrom('api_test', 'sleep', '../config', '..%2Fconfig')),
    };
    const route = fc.constantFrom(...operations).chain(({ template, method, op }) => {
      const params = (op.parameters ?? []) as { name: string; in: string; schema: unknown }[];
      const inPath = params.filter((p) => p.in === 'path');
      const inQuery = params.filter((p) => p.in === 'query');
      return fc.record({
        template: fc.constant(template),
        method: fc.constant(method),
        path: fc.record(Object.fromEntries(inPath.map((p) => [p.name, pathValue[p.name] ?? text]))),
        encode: fc.boolean(),
        query: fc.record(Object.fromEntries(inQuery.map((p) => [p.name, fromSchema(p.schema, spec).map(asParam)])), { requiredKeys: [] }),
        extra: fc.option(fc.tuple(text, text)),
        body: template === '/dev/callback' ? fc.option(jsonText()) : fc.constant(null),
        withKey: fc.integer({ min: 0, max: 9 }).map((n) => n > 0), // now and then without the key
      });
    });
    await fc.assert(
      fc.asyncProperty(route, async (r) => {
        const url = r.template.replace(/\{(\w+)\}/g, (_m, name: string) => {
          const value = String((r.path as Record<string, unknown>)[name] ?? '');
          // Encoded, every UTF-8 byte percent-escaped; or raw, as the URL parser takes it.
          return r.encode ? [...Buffer.from(value)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('') : value;
        });
        const query = new URLSearchParams(Object.entries(r.query).map(([k, v]): [string, string] => [k, String(v)]));
        if (r.extra) query.append(...r.extra);
        const init: RequestInit = r.body === null ? {} : { body: r.body, headers: { 'content-type': 'application/json' } };
        await send(r.method, `${url}${query.size > 0 ? `?${query}` : ''}`, init, r.withKey);
      }),
      { ...FUZZ_OPTIONS, numRuns: FUZZ_ROUTE_RUNS },
    );

    // POST /jobs: SubmitForm's fields, config from SubmitConfig's schema, hostile files and names.
    const processes = ((await (await fetch(`${stack.url}/processes`)).json()) as { processes: string[] }).processes;
    const form = spec.components.schemas.SubmitForm.properties;
    const quick = processes.filter((p) => p === 'api_test' || p === 'convert_file' || p === 'generate_metadata');
    const fileName = (names: string[]) => fc.oneof(fc.constantFrom(...names), text);
    const smallZip = archive('fuzz.zip', (f) => craftZip(f, [{ name: 'm/a.obj', content: 'v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n' }])).content;
    const submission = fc.record(
      {
        process: fc.oneof(fc.constantFrom('custom', ...quick), fromSchema(form.process, spec).map(asParam)),
        script: fc.record({
          name: fileName(['s.ts', 's.js', 's.mjs', 's.cjs', 's.py', '.ts', '../../s.ts', 'dir/s.ts']),
          content: fc.oneof(fc.constantFrom('export async function main() { return 1; }', 'export const main = 1;', 'syntax error (', ''), text),
        }),
        file: fc.record({
          name: fileName(['m.obj', 'm.zip', 'm.tar.gz', 'm.stl', '.zip', 's.ts']),
          content: fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.constant(new Uint8Array(smallZip))),
        }),
        params: jsonText(),
        name: fromSchema(form.name, spec).map(asParam),
        config: jsonText(fromSchema(spec.components.schemas.SubmitConfig, spec)),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(submission, async (s) => {
        const body = new FormData();
        for (const [key, value] of Object.entries(s)) {
          if (typeof value === 'string') body.set(key, value);
          else body.set(key, new Blob([value.content]), value.name);
        }
        const { status, body: answer } = await send('POST', '/jobs', { body });
        if (status === 200) accepted.push(JSON.parse(answer).uuid);
      }),
      { ...FUZZ_OPTIONS, numRuns: FUZZ_SUBMIT_RUNS },
    );
    // And bodies that are not a form at all.
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('multipart/form-data', 'multipart/form-data; boundary=x', 'multipart/form-data; boundary=', 'application/json', 'text/plain', ''),
        fc.oneof(text, fc.constant('--x\r\nContent-Disposition: form-data; name="params"\r\n\r\n[[[\r\n--x--')),
        async (type, body) => {
          await send('POST', '/jobs', { body, headers: type ? { 'content-type': type } : {} });
        },
      ),
      { ...FUZZ_OPTIONS, numRuns: FUZZ_RAW_RUNS },
    );

    // The server still answers; the jobs the fuzzing started go; refused ones left nothing.
    expect(await (await fetch(`${stack.url}/`)).text()).toMatch(/^Welcome to PiXYZ API/);
    expect((await stack.api('/jobs?limit=5')).status).toBe(200);
    await Promise.all(accepted.map((id) => send('DELETE', `/jobs/${id}`)));
    const left = fs.readdirSync(stack.sharePath).filter((name) => !shareBefore.has(name));
    expect(left).toEqual([]);
    console.log(
      `fuzzing: ${FUZZ_ROUTE_RUNS} route + ${FUZZ_SUBMIT_RUNS} + ${FUZZ_RAW_RUNS} submission cases, ${accepted.length} jobs accepted, in ${Date.now() - started} ms; answers:`,
      Object.fromEntries([...answers].sort(([a], [b]) => a - b)),
    );
  });
});
