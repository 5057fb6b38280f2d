// GET /jobs/{id}/events: a job as Server-Sent Events, as the CLI and the dashboard watch it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_POLL_MS, setEventsPollMs } from '../../src/api/events';
import { takeEvents } from '../../src/shared/sse';
import { startStack, submit, waitForEnd, type Stack } from '../helpers/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const SCRIPT = {
  name: 'steps.ts',
  content: `
import type { ProgramContext } from 'pixyz-scheduler';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export async function main(pc: ProgramContext) {
  pc.progressSetTotal(3);
  for (let i = 1; i <= 3; i++) {
    pc.progressNext('step ' + i);
    console.log('working on ' + i);
    await sleep(400);
  }
  const part = await pc.clone({ entrypoint: 'part', raw: true }).execute({}).get();
  return { ok: true, part };
}
export async function part() { return 7; }
`,
};

interface Event {
  id: string;
  event: string;
  data: any;
}

/** Reads an event stream until it closes (or `stopAfter` says so), with the time each event came. */
async function readEvents(res: Response, stopAfter: (e: Event) => boolean = () => false): Promise<(Event & { at: number })[]> {
  const out: (Event & { at: number })[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return out;
    const { events, rest } = takeEvents(buffer + decoder.decode(value, { stream: true }));
    buffer = rest;
    for (const { id, event, data } of events) {
      const e = { id: id!, event: event!, data: JSON.parse(data!), at: Date.now() };
      out.push(e);
      if (stopAfter(e)) {
        await reader.cancel();
        return out;
      }
    }
  }
}

const events = (id: string, headers: Record<string, string> = {}) => stack.api(`/jobs/${id}/events`, { headers });

describe('GET /jobs/{id}/events', () => {
  it('streams a running job: status with progress and step, each step, each log line, its sub-tasks, the end', async () => {
    const { body } = await submit(stack, { script: SCRIPT });
    const started = Date.now();
    const res = await events(body.uuid);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const got = await readEvents(res);
    const of = (type: string) => got.filter((e) => e.event === type).map((e) => e.data);

    expect(got.at(-1)).toMatchObject({ event: 'end', data: { status: 'SUCCESS', progress: 100, error: null, result: { ok: true, part: 7 } } });
    expect(of('step').map((s) => [s.index, s.info])).toEqual([
      [0, 'step 1'],
      [1, 'step 2'],
      [2, 'step 3'],
    ]);
    expect(of('log').map((l) => l.line).filter((l) => l.startsWith('working on'))).toEqual(['working on 1', 'working on 2', 'working on 3']);
    expect(of('children').at(-1)).toEqual({ started: 1, done: 1, failed: 0 });
    // Progress is seen moving while the job runs, with the step's name, not only at the end.
    const running = got.filter((e) => e.event === 'status' && e.data.status === 'RUNNING' && e.data.step);
    expect(running.length).toBeGreaterThan(0);
    for (const e of running) expect(['step 1', 'step 2', 'step 3']).toContain(e.data.step);
    expect(running[0]!.at - started).toBeLessThan(got.at(-1)!.at - started - 300); // seen well before the end
    // Ids are increasing cursors.
    const counts = got.map((e) => Number(e.id.split('-')[2]));
    expect(counts).toEqual(counts.map((_, i) => counts[0]! + i));
  });

  it('resumes after Last-Event-ID without repeating what was sent, and replays a finished job whole', async () => {
    const { body } = await submit(stack, { script: SCRIPT });
    await waitForEnd(stack, body.uuid);
    const whole = await readEvents(await events(body.uuid));
    expect(whole[0]).toMatchObject({ event: 'status', data: { status: 'SUCCESS', progress: 100 } });
    expect(whole.filter((e) => e.event === 'step')).toHaveLength(3);
    const logs = whole.filter((e) => e.event === 'log');
    expect(logs.length).toBeGreaterThanOrEqual(3);
    // Resumed after the first log line: the later lines only, then the end.
    const resumed = await readEvents(await events(body.uuid, { 'Last-Event-ID': logs[0]!.id }));
    expect(resumed.filter((e) => e.event === 'log').map((e) => e.data.line)).toEqual(logs.slice(1).map((e) => e.data.line));
    expect(resumed.filter((e) => e.event === 'step')).toEqual([]);
    expect(resumed.at(-1)!.event).toBe('end');
  });

  it('says what a PENDING job waits for: its queue, the tasks waiting in it, the workers polling it', async () => {
    // A deployment whose only worker does not serve gpu.
    const cpuOnly = await startStack({}, process.env, [{ queues: ['control', 'cpu', 'share'] }]);
    try {
      const { body } = await submit(cpuOnly, { script: SCRIPT, config: { queue: 'gpu' } });
      const res = await cpuOnly.api(`/jobs/${body.uuid}/events`);
      const first = (await readEvents(res, (e) => e.event === 'status'))[0]!;
      expect(first.data).toMatchObject({ status: 'PENDING', waiting: { queue: `${cpuOnly.config.taskQueuePrefix}gpu`, workers: 0 } });
      const details = (await (await cpuOnly.api(`/jobs/${body.uuid}/details`)).json()) as { waiting?: unknown };
      expect(details.waiting).toEqual({ queue: `${cpuOnly.config.taskQueuePrefix}gpu`, backlog: expect.any(Number), workers: 0 });
      await cpuOnly.api(`/jobs/${body.uuid}/cancel`, { method: 'POST' });
    } finally {
      await cpuOnly.stop();
    }
  });

  it('counts the log in bytes whatever it holds: an invalid UTF-8 byte, a last line without its newline', async () => {
    const raw = {
      name: 'raw.ts',
      content: `export async function main() { process.stdout.write(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a])); process.stdout.write('second line\\nno newline at the end'); return 1; }`,
    };
    const { body } = await submit(stack, { script: raw });
    await waitForEnd(stack, body.uuid);
    const logs = (await readEvents(await events(body.uuid))).filter((e) => e.event === 'log');
    const lines = logs.map((e) => e.data.line);
    expect(lines).toEqual(expect.arrayContaining(['caf\uFFFD', 'second line']));
    expect(lines.some((l: string) => l.startsWith('no newline at the end'))).toBe(true);
    // Resumed after the invalid byte's line: the next line whole, not shifted.
    const from = logs.find((e) => e.data.line === 'caf\uFFFD')!;
    const resumed = (await readEvents(await events(body.uuid, { 'Last-Event-ID': from.id }))).filter((e) => e.event === 'log').map((e) => e.data.line);
    expect(resumed[0]).toBe('second line');
  });

  it('sends the end as soon as the job closes, not at its next read', async () => {
    setEventsPollMs(10_000);
    try {
      const { body } = await submit(stack, { script: { name: 'short.ts', content: `export async function main() { await new Promise((r) => setTimeout(r, 500)); return 42; }` } });
      const opened = Date.now();
      const got = await readEvents(await events(body.uuid));
      const end = got.at(-1)!;
      expect(end).toMatchObject({ event: 'end', data: { status: 'SUCCESS', result: 42 } });
      // Read once as the stream opened, the next read would be 10 s later.
      expect(end.at - opened).toBeLessThan(5_000);
    } finally {
      setEventsPollMs(EVENTS_POLL_MS);
    }
  });

  it('answers 404 for an unknown job and 401 without the key, before any stream', async () => {
    expect((await events('00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await fetch(`${stack.url}/jobs/00000000-0000-4000-8000-000000000000/events`)).status).toBe(401);
  });
});
