import { Client, Connection } from '@temporalio/client';
import { takeEvents } from '../src/shared/sse';
import { startBenchStack } from './harness';
async function main() {
  const stack = await startBenchStack({}, { dbFile: true });
  const headers = { 'x-api-key': stack.key };
  const connection = await Connection.connect({ address: stack.address });
  const client = new Client({ connection });
  const TRIVIAL = Buffer.from(`export async function main(_pc: unknown, params: { n?: number }) { return { ok: true, n: params.n ?? 0 }; }\n`);
  const rows: number[][] = [];
  for (let i = 0; i < 25; i++) {
    const form = new FormData();
    form.set('script', new Blob([TRIVIAL]), 'trivial.ts');
    form.set('params', JSON.stringify({ n: i }));
    const t0 = Date.now() + (performance.now() % 1);
    const p0 = performance.now();
    const res = await fetch(`${stack.url}/jobs`, { method: 'POST', body: form, headers });
    const uuid = ((await res.json()) as any).uuid;
    const p1 = performance.now();
    const ev = await fetch(`${stack.url}/jobs/${uuid}/events`, { headers });
    const p2 = performance.now();
    const reader = ev.body!.getReader(); const dec = new TextDecoder(); let buf = ''; let pEnd = 0; let pFirst = 0;
    for (;;) { const { value, done } = await reader.read(); if (done) break; const { events, rest } = takeEvents(buf + dec.decode(value, { stream: true })); buf = rest; if (!pFirst && events.length) pFirst = performance.now(); if (events.some((e) => e.event === 'end')) { pEnd = performance.now(); await reader.cancel(); break; } }
    const h = await client.workflow.getHandle(uuid).fetchHistory();
    const ts = (e: any) => Number(e.eventTime.seconds) * 1000 + e.eventTime.nanos / 1e6;
    const ev0 = ts(h.events![0]); const evLast = ts(h.events!.at(-1));
    const act = h.events!.filter((e: any) => e.activityTaskStartedEventAttributes || e.activityTaskCompletedEventAttributes).map(ts);
    rows.push([p1 - p0, p2 - p0, pFirst - p0, pEnd - p0, ev0 - t0, evLast - t0, act[0]! - t0, act[1]! - t0]);
    await new Promise((r) => setTimeout(r, 60));
  }
  const med = (k: number) => rows.map((r) => r[k]!).sort((a, b) => a - b)[Math.floor(rows.length / 2)]!.toFixed(1);
  console.log('post', med(0), 'streamHeaders', med(1), 'firstEvent', med(2), 'end', med(3), '| wfStart', med(4), 'actStart', med(6), 'actDone', med(7), 'wfClose', med(5));
  process.exit(0);
}
main();
