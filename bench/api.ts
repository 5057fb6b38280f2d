// The API's own cost: a status call and a submission (p50, p99 over BENCH_CALLS calls), each
// against what Temporal alone takes for the same work in this process; and the process's peak
// RSS while a 1 GiB file uploads (streamed to disk, never held in memory).
//
//   npm run bench:api        (BENCH_CALLS=1000, BENCH_UPLOAD_MB=1024)
import { Client, Connection } from '@temporalio/client';
import { readJobState } from '../src/api/job-state';
import { startBenchStack } from './harness';

const CALLS = Number(process.env.BENCH_CALLS ?? 1000);
const UPLOAD_MB = Number(process.env.BENCH_UPLOAD_MB ?? 1024);

function percentiles(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}
const show = (x: { p50: number; p99: number }) => `p50 ${x.p50.toFixed(2)} ms, p99 ${x.p99.toFixed(2)} ms`;

async function time(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

async function main(): Promise<void> {
  // `parked` is a queue no worker serves (the workflow itself still runs, and prepares the share): submitted jobs wait there, so that a thousand
  // submissions measure the API, not a thousand scripts.
  const stack = await startBenchStack({ QUEUES: 'control,cpu,gpu,parked', WORKER_QUEUES: 'control,cpu,gpu,share' });
  const headers = { 'x-api-key': stack.key };
  const script = Buffer.from(`export async function main() { return 1; }`);
  await stack.runJob('one.ts', script);
  const list = (await (await fetch(`${stack.url}/jobs?limit=1`, { headers })).json()) as { jobs: { uuid: string }[] };
  const id = list.jobs[0]!.uuid;

  const connection = await Connection.connect({ address: stack.address });
  const client = new Client({ connection });
  await time(50, () => fetch(`${stack.url}/jobs/${id}`, { headers }).then((r) => r.json())); // warm up
  const direct = percentiles(await time(CALLS, () => readJobState({ client, controlQueue: stack.taskQueue('control') }, id)));
  const status = percentiles(await time(CALLS, () => fetch(`${stack.url}/jobs/${id}`, { headers }).then((r) => r.json())));
  console.log(`status of a finished job (${CALLS} calls)`);
  console.log(`  the Temporal read alone (describe):       ${show(direct)}`);
  console.log(`  GET /jobs/{id}:                           ${show(status)}`);
  console.log(`  ratio (p50): ${(status.p50 / direct.p50).toFixed(2)}× — API overhead ${(status.p50 - direct.p50).toFixed(2)} ms`);

  const submit = () => {
    const form = new FormData();
    form.set('script', new Blob([script]), 'parked.ts');
    form.set('config', JSON.stringify({ queue: 'parked' }));
    return fetch(`${stack.url}/jobs`, { method: 'POST', body: form, headers }).then((r) => r.json());
  };
  let n = 0;
  const startOnly = percentiles(
    await time(CALLS, () =>
      client.workflow.start('pixyzJob', { taskQueue: stack.taskQueue('nobody-polls-this'), workflowId: `bench-start-${n++}-${Date.now()}`, args: [{}] }).then((h) => h.terminate()),
    ),
  );
  const submission = percentiles(await time(CALLS, submit));
  console.log(`submission of a small script (${CALLS} calls)`);
  console.log(`  Temporal workflow start alone (+ terminate): ${show(startOnly)}`);
  console.log(`  POST /jobs:                                  ${show(submission)}`);
  console.log(`  ratio (p50): ${(submission.p50 / startOnly.p50).toFixed(2)}×`);

  global.gc?.();
  const before = process.memoryUsage.rss();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === 0) controller.enqueue(new TextEncoder().encode('--b\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'));
      if (sent < UPLOAD_MB) {
        sent += 1;
        controller.enqueue(chunk);
      } else {
        controller.enqueue(
          new TextEncoder().encode(
            '\r\n--b\r\nContent-Disposition: form-data; name="script"; filename="s.ts"\r\n\r\nexport async function main() {}\r\n' +
              '--b\r\nContent-Disposition: form-data; name="config"\r\n\r\n{"queue":"parked"}\r\n--b--\r\n',
          ),
        );
        controller.close();
      }
    },
  });
  const t = performance.now();
  const res = await fetch(`${stack.url}/jobs`, {
    method: 'POST',
    body,
    headers: { ...headers, 'content-type': 'multipart/form-data; boundary=b' },
    duplex: 'half',
  } as RequestInit);
  clearInterval(sampler);
  const seconds = (performance.now() - t) / 1000;
  console.log(`upload of ${UPLOAD_MB} MiB: ${res.status} in ${seconds.toFixed(1)} s (${(UPLOAD_MB / seconds).toFixed(0)} MiB/s)`);
  console.log(`  process RSS: ${(before / 2 ** 20).toFixed(0)} MiB before, peak ${(peak / 2 ** 20).toFixed(0)} MiB (+${((peak - before) / 2 ** 20).toFixed(0)} MiB; client, API and worker share this process)`);

  await connection.close();
  await stack.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
