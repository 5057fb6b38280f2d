// `pixyz`: the command line of Pixyz Scheduler on Temporal — upstream client.py's commands, flags,
// output and exit codes, plus cancel, delete, logs, watch; live progress from the job's event
// stream. `pixyz --help`, `pixyz <command> --help`.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { parseUpstreamTime } from '../shared/time';
import { Api, CliError, DEFAULT_URL, humanBytes, resolveServer } from './http';

const VERSION = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

/** Upstream's exit codes of a watched job in batch mode. */
export const EXIT_CODES: Record<string, number> = { SUCCESS: 0, FAILURE: 10, REVOKED: 11, RETRY: 12, PENDING: 13, STARTED: 14, RECEIVED: 15, REJECTED: 16 };
const exitCodeOf = (status: string) => EXIT_CODES[status] ?? 17;

interface Globals {
  url?: string;
  token?: string;
  json?: boolean;
}

const tty = () => process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = (code: number) => (s: string) => (tty() ? `\x1b[${code}m${s}\x1b[0m` : s);
const green = paint(32);
const red = paint(31);
const yellow = paint(33);
const dim = paint(2);
const colourOf = (status: string) => (status === 'SUCCESS' ? green : status === 'FAILURE' ? red : status === 'REVOKED' ? yellow : (s: string) => s);

function print(value: unknown): void {
  process.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}\n`);
}

/** A submission time (upstream's naive UTC) as this machine's local time, to the minute. */
function submittedAt(time: string | null | undefined): string {
  const d = parseUpstreamTime(time);
  if (!d) return '';
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** A progress bar on a terminal (stderr), nothing otherwise. */
function bar(format: string, total: number, show: boolean): cliProgress.SingleBar | null {
  if (!show || !process.stderr.isTTY) return null;
  const b = new cliProgress.SingleBar({ format, hideCursor: true, clearOnComplete: false, barsize: 28, stream: process.stderr }, cliProgress.Presets.shades_classic);
  b.start(total, 0, {});
  return b;
}

function transferFormat(label: string): string {
  return `${label} [{bar}] {percentage}% | {got} of {size} | {speed}/s | ETA {eta_formatted}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The job whose id starts with `prefix` (at least 4 characters), among the newest 1,000 jobs. */
async function resolveJobId(api: Api, prefix: string): Promise<string> {
  if (!/^[0-9a-f-]{4,35}$/i.test(prefix)) throw new CliError(`Invalid job id '${prefix}': give its uuid, or at least its first 4 characters`);
  const matches: string[] = [];
  let next: string | null = null;
  for (let page = 0; page < 2; page++) {
    const q = new URLSearchParams({ all: 'true', limit: '500' });
    if (next) q.set('next', next);
    const r = await api.json<{ jobs: { uuid: string }[]; next: string | null }>(`/jobs?${q}`);
    matches.push(...r.jobs.map((j) => j.uuid).filter((u) => u.startsWith(prefix.toLowerCase())));
    next = r.next;
    if (!next) break;
  }
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new CliError(`No job's id starts with '${prefix}' (among the newest 1,000)`);
  throw new CliError(`'${prefix}' starts ${matches.length} job ids (${matches.slice(0, 5).join(', ')}${matches.length > 5 ? ', …' : ''}): give more of it`);
}

/** A destination that is a folder (existing, or written with a trailing slash) gets `name` in it. */
function intoFolder(dest: string, name: string): string {
  const folder = dest.endsWith('/') || dest.endsWith(path.sep) || (fs.existsSync(dest) && fs.statSync(dest).isDirectory());
  return folder ? path.join(dest, name) : dest;
}

/** Uploads a job with a bar; returns its JobState. */
async function submitJob(api: Api, g: Globals, fields: Record<string, string | undefined>, files: Record<string, string | undefined>, batch = false) {
  const started = Date.now();
  const upload = bar(transferFormat('Upload'), 1, !g.json && !batch);
  const state = await api.submit(fields, files, (sent, total) => {
    if (!upload) return;
    const seconds = Math.max(0.001, (Date.now() - started) / 1000);
    upload.setTotal(total);
    upload.update(sent, { got: humanBytes(sent), size: humanBytes(total), speed: humanBytes(sent / seconds) });
  });
  upload?.stop();
  return state as { uuid: string };
}

/**
 * Follows a job to its end through its event stream: a live bar (progress, status, current step,
 * sub-tasks) on a terminal, a line per change elsewhere; Ctrl-C asks whether to cancel it.
 * Returns its final details.
 */
async function watch(api: Api, g: Globals, id: string, quiet = false): Promise<any> {
  const show = !g.json && !quiet;
  const live = bar(`Job ${id.slice(0, 8)} [{bar}] {percentage}% | {status}{children} {step}`, 100, show);
  // The current step's name, cut to what the terminal's line has left.
  const fit = (text: string) => {
    const room = Math.max(10, (process.stderr.columns || 100) - 72 - children.length);
    return text.length > room ? `${text.slice(0, room - 1)}…` : text;
  };
  const controller = new AbortController();
  let rl: readline.Interface | null = null;
  const onSigint = () => {
    if (rl) return;
    if (!process.stdin.isTTY || !live) {
      controller.abort();
      return;
    }
    live.stop();
    rl = readline.createInterface({ input: process.stdin, output: process.stderr });
    // A second Ctrl-C at the question leaves, the job going on.
    rl.on('SIGINT', () => {
      rl?.close();
      rl = null;
      process.stderr.write(`\nJob [ ${id} ] goes on; watch it again with: pixyz watch -j ${id}\n`);
      controller.abort();
    });
    rl.question(`Cancel job ${id}? [y/N] `, (answer) => {
      rl?.close();
      rl = null;
      if (/^y/i.test(answer.trim())) {
        // Said before the request: the job's REVOKED may come through its events before the answer.
        process.stderr.write(`Job [ ${id} ] cancel requested\n`);
        void api.json(`/jobs/${id}/cancel`, { method: 'POST' }).catch((err: Error) => process.stderr.write(`${err.message}\n`));
      } else {
        process.stderr.write(`Job [ ${id} ] goes on; watch it again with: pixyz watch -j ${id}\n`);
        controller.abort();
      }
    });
  };
  process.on('SIGINT', onSigint);
  let children = '';
  let lastLine = '';
  try {
    for await (const { event, data } of api.events(id, controller.signal)) {
      if (event === 'status') {
        const waiting = data.status === 'PENDING' && data.waiting ? (data.waiting.workers === 0 ? `no worker serves ${data.waiting.queue}` : data.waiting.backlog > 0 ? `${data.waiting.backlog} waiting on ${data.waiting.queue}` : `waiting for ${data.waiting.queue}`) : '';
        const step = data.step ? dim(fit(data.step)) : waiting ? yellow(fit(waiting)) : '';
        live?.update(data.progress ?? 0, { status: colourOf(data.status)(data.status), step, children });
        const line = `Job [ ${id} ] progress: ${String(data.progress ?? 0).padStart(3, '0')}, status: ${data.status}${data.step ? ` (${data.step})` : waiting ? ` (${waiting})` : ''}`;
        if (!live && show && line !== lastLine) process.stderr.write(`${line}\n`);
        lastLine = line;
      } else if (event === 'children') {
        children = ` | sub-tasks ${data.done}/${data.started}${data.failed ? red(` (${data.failed} failed)`) : ''}`;
        live?.update({ children });
      } else if (event === 'end') {
        live?.update(data.progress ?? (data.status === 'SUCCESS' ? 100 : 0), { status: colourOf(data.status)(data.status), step: '', children });
      }
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
    live?.stop();
    throw new CliError('', 130);
  } finally {
    process.off('SIGINT', onSigint);
    (rl as readline.Interface | null)?.close(); // the job ended while the question was open
    live?.stop();
  }
  return api.json(`/jobs/${id}/details`);
}

/** After a job ended: upstream's lines (or JSON), and the exit code a batch run gets. */
function report(g: Globals, details: any, opts: { raw?: boolean; batch?: boolean }): number {
  if (g.json) print(details);
  else {
    if (!opts.batch) print(`Job [ ${details.uuid} ] ${colourOf(details.status)(details.status === 'SUCCESS' ? 'completed' : details.status.toLowerCase())}`);
    if (details.error) print(`Error: ${red(details.error)}`);
    if (opts.raw) print(details);
  }
  return opts.batch || g.json ? exitCodeOf(details.status) : details.status === 'SUCCESS' ? 0 : exitCodeOf(details.status);
}

interface SubmitOptions {
  input?: string;
  params?: string;
  entrypoint?: string;
  queue?: string;
  timeLimit?: string;
  rootFile?: string;
  wait?: boolean;
  alias?: string;
  raw?: boolean;
  batch?: boolean;
}

function submitFields(process_: string, o: SubmitOptions): Record<string, string | undefined> {
  if (o.params !== undefined) {
    try {
      JSON.parse(o.params);
    } catch {
      throw new CliError(`-p must be JSON, e.g. '{"extension":"glb"}' (got ${o.params})`);
    }
  }
  const config: Record<string, unknown> = {};
  if (o.entrypoint) config.entrypoint = o.entrypoint;
  if (o.queue) config.queue = o.queue;
  if (o.timeLimit) config.time_limit = Number(o.timeLimit);
  if (o.rootFile) config.root_file = o.rootFile;
  return { process: process_, params: o.params, config: Object.keys(config).length ? JSON.stringify(config) : undefined, name: o.alias };
}

async function runSubmission(api: Api, g: Globals, fields: Record<string, string | undefined>, files: Record<string, string | undefined>, o: SubmitOptions): Promise<number> {
  const state = await submitJob(api, g, fields, files, o.batch);
  if (!o.wait) {
    if (g.json) print(state);
    else print(o.batch ? state.uuid : `Job [ ${state.uuid} ] ${fields.process === 'custom' ? 'started' : 'submitted'}`);
    return 0;
  }
  if (!g.json && !o.batch) process.stderr.write(`Job [ ${state.uuid} ] started\n`);
  return report(g, await watch(api, g, state.uuid, o.batch), o);
}

/** Downloads a job's outputs into `dir`, file by file (GET …/outputs, then each by name): what its zip holds, unpacked. */
async function downloadOutputs(api: Api, g: Globals, id: string, dir: string, overwrite = false): Promise<string[]> {
  const { outputs } = await api.json<{ outputs: string[] }>(`/jobs/${id}/outputs`);
  // An earlier run's outputs (every convert writes output.glb) are not replaced without --force.
  const taken = overwrite ? [] : outputs.filter((name) => fs.existsSync(path.join(dir, name)));
  if (taken.length > 0) {
    throw new CliError(
      `${taken.map((name) => path.join(dir, name)).join(', ')} already exist${taken.length === 1 ? 's' : ''}: nothing downloaded. ` +
        `Choose another -o, or pass --force to replace; the job's outputs stay on the server (pixyz download_all -j ${id})`,
    );
  }
  const written: string[] = [];
  for (const name of outputs) {
    const dest = path.join(dir, name);
    const started = Date.now();
    const b = bar(transferFormat(name.length > 18 ? `${name.slice(0, 17)}…` : name), 1, !g.json);
    await api.download(`/jobs/${id}/outputs/${encodeURIComponent(name)}`, dest, (got, total) => {
      b?.setTotal(total ?? got);
      b?.update(got, { got: humanBytes(got), size: total ? humanBytes(total) : '?', speed: humanBytes(got / Math.max(0.001, (Date.now() - started) / 1000)) });
    });
    b?.stop();
    written.push(dest);
  }
  return written;
}

export function program(): Command {
  const cmd = new Command('pixyz')
    .description('Pixyz Scheduler on Temporal: submit 3D jobs, watch them, get their outputs.')
    .version(VERSION)
    .addOption(new Option('-u, --url <url>', `the API (default: PIXYZ_URL, else ${DEFAULT_URL})`))
    .addOption(new Option('-t, --token <key>', 'the API key (default: PIXYZ_API_KEY, else .temporal/api-key of this checkout)'))
    .option('--json', 'machine-readable output, no bars')
    .showHelpAfterError();
  const api = () => new Api(resolveServer(cmd.opts<Globals>()));
  const g = () => cmd.opts<Globals>();
  const job = (c: Command) => c.requiredOption('-j, --job <id>', 'the job id (or its first characters, as the bars show it)');
  const submitOptions = (c: Command) =>
    c
      .option('-i, --input <file>', 'the model (or a .zip / .tar.gz of one)')
      .option('--root-file <path>', 'the model to load inside the .zip / .tar.gz (default: the first model file in it)')
      .option('-p, --params <json>', "the job's params, JSON")
      .option('-e, --entrypoint <name>', 'the function to run (default: main)')
      .option('-q, --queue <queue>', 'the queue (default: the script’s own, else cpu)')
      .option('-l, --time-limit <seconds>', 'the run limit')
      .option('-w, --wait', 'watch the job until it ends')
      .option('-a, --alias <name>', "the job's name")
      .option('-r, --raw', 'print the details at the end')
      .option('-b, --batch', 'batch mode: the job id alone; with -w, the exit code says how it ended');
  let exitCode = 0;
  const act = <A extends unknown[]>(fn: (...args: A) => Promise<number | void>) => async (...args: A) => {
    exitCode = (await fn(...args)) ?? 0;
  };

  cmd.command('version').description('the client’s version').action(act(async () => print(`pixyz-scheduler-client v${VERSION}`)));
  cmd
    .command('list')
    .description('the processes the scheduler runs')
    .action(
      act(async () => {
        const list = await api().json<{ processes: string[] }>('/processes');
        print(g().json ? list : list.processes.join('\n') || dim('no processes'));
      }),
    );
  cmd
    .command('doc')
    .description("a process's documentation")
    .argument('[process]', 'the process (or -n)')
    .option('-n, --name <process>', 'the process')
    .action(
      act(async (positional: string | undefined, o: { name?: string }) => {
        const name = o.name ?? positional;
        if (!name) throw new CliError('which process? pixyz doc <process> (see pixyz list)');
        const doc = await api().json(`/processes/${encodeURIComponent(name)}`);
        print(g().json ? doc : doc.doc);
      }),
    );
  cmd
    .command('jobs')
    .description('jobs, newest first')
    .option('-s, --status <status>', 'PENDING, RUNNING, SUCCESS, FAILURE or REVOKED')
    .option('-a, --alias <name>', 'by name')
    .option('--all', 'sub-tasks too')
    .option('--limit <n>', 'at most this many')
    .action(
      act(async (o: { status?: string; alias?: string; all?: boolean; limit?: string }) => {
        const q = new URLSearchParams();
        if (o.status) q.set('status', o.status);
        if (o.alias) q.set('name', o.alias);
        if (o.all) q.set('all', 'true');
        if (o.limit) q.set('limit', o.limit);
        type Listed = { uuid: string; name: string | null; status: string; progress: number | null; error: string | null; process?: string | null; time_request?: string | null };
        const page = await api().json<{ jobs: Listed[] }>(`/jobs?${q}`);
        if (g().json) return print(page);
        if (page.jobs.length === 0) return print(dim('no jobs'));
        const width = Math.max('PROCESS'.length, ...page.jobs.map((j) => (j.process ?? '').length));
        print(dim(`${'JOB'.padEnd(36)}  ${'STATUS'.padEnd(8)} ${'DONE'}  ${'SUBMITTED'.padEnd(16)}  ${'PROCESS'.padEnd(width)}  NAME`));
        for (const j of page.jobs) {
          const done = j.progress === null ? '    ' : `${String(j.progress).padStart(3)}%`;
          print(`${j.uuid}  ${colourOf(j.status)(j.status.padEnd(8))} ${done}  ${submittedAt(j.time_request).padEnd(16)}  ${dim((j.process ?? '').padEnd(width))}  ${j.name ?? ''}${j.error ? `  ${red(j.error)}` : ''}`);
        }
      }),
    );
  job(cmd.command('details').description("a job's details")).action(act(async (o: { job: string }) => print(await api().json(`/jobs/${o.job}/details`))));
  job(cmd.command('outputs').description("a job's output files")).action(act(async (o: { job: string }) => print(await api().json(`/jobs/${o.job}/outputs`))));
  job(cmd.command('status').description("a job's status; -w to watch it to its end"))
    .option('-w, --wait', 'watch it until it ends')
    .option('-r, --raw', 'print the details at the end')
    .option('-b, --batch', 'the exit code says how it ended')
    .action(
      act(async (o: { job: string; wait?: boolean; raw?: boolean; batch?: boolean }) => {
        if (o.wait) return report(g(), await watch(api(), g(), o.job, o.batch), o);
        const d = await api().json(`/jobs/${o.job}/details`);
        if (g().json) print(d);
        else print(`Job [ ${d.uuid} ] progress: ${String(d.progress ?? 0).padStart(3, '0')}, status: ${colourOf(d.status)(d.status)}${d.error ? `, error: ${d.error}` : ''}`);
        return o.batch ? exitCodeOf(d.status) : 0;
      }),
    );
  job(cmd.command('watch').description('watch a job until it ends (Ctrl-C asks whether to cancel it)'))
    .option('-r, --raw', 'print the details at the end')
    .action(act(async (o: { job: string; raw?: boolean }) => report(g(), await watch(api(), g(), o.job), { ...o, batch: false })));
  job(cmd.command('download').description('one output file'))
    .requiredOption('-f, --file <name>', 'the output’s name (as `outputs` lists it)')
    .option('-o, --output <dest>', 'where to write it: a file, or a folder (here, under its own name, by default)', '.')
    .action(
      act(async (o: { job: string; file: string; output: string }) => {
        const started = Date.now();
        const b = bar(transferFormat('Download'), 1, !g().json);
        o.output = intoFolder(o.output, path.basename(o.file));
        const bytes = await api().download(`/jobs/${o.job}/outputs/${o.file.split('/').map(encodeURIComponent).join('/')}`, o.output, (got, total) => {
          b?.setTotal(total ?? got);
          b?.update(got, { got: humanBytes(got), size: total ? humanBytes(total) : '?', speed: humanBytes(got / Math.max(0.001, (Date.now() - started) / 1000)) });
        });
        b?.stop();
        print(g().json ? { job: o.job, file: o.file, output: o.output, bytes } : `Job [ ${o.job} ] output '${o.file}' downloaded to '${o.output}' (${humanBytes(bytes)})`);
      }),
    );
  job(cmd.command('download_all').alias('download-all').description("the job's outputs as a zip (waits while it is being built)"))
    .option('-o, --output <dest>', 'where to write the zip: a file, or a folder (here, as <job>.zip, by default)', '.')
    .action(
      act(async (o: { job: string; output: string }) => {
        o.output = intoFolder(o.output, `${o.job}.zip`);
        for (let i = 0; ; i++) {
          try {
            const bytes = await api().download(`/jobs/${o.job}/outputs/archive`, o.output);
            print(g().json ? { job: o.job, output: o.output, bytes } : `Job [ ${o.job} ] outputs downloaded to '${o.output}' (${humanBytes(bytes)})`);
            return;
          } catch (err) {
            if ((err as { status?: number }).status !== 425 || i >= 30) throw err;
            await new Promise((r) => setTimeout(r, 1000));
          }
        }
      }),
    );
  submitOptions(cmd.command('exec').description('run a script (TypeScript, JavaScript or Python)').requiredOption('-s, --script <file>', 'the script')).action(
    act(async (o: SubmitOptions & { script: string }) => runSubmission(api(), g(), submitFields('custom', o), { script: o.script, file: o.input }, o)),
  );
  submitOptions(cmd.command('process').description('run a predefined process (see `list`)').requiredOption('-n, --name <process>', 'the process')).action(
    act(async (o: SubmitOptions & { name: string }) => runSubmission(api(), g(), submitFields(o.name, o), { file: o.input }, o)),
  );
  // The 3D shortcuts: a process on a model, waited for, its outputs downloaded.
  for (const [name, process_, what] of [
    ['convert', 'convert_file', 'convert a model (-p \'{"extension":"obj"}\'; default glb)'],
    ['thumbnails', 'generate_thumbnails', 'render thumbnails of a model'],
    ['metadata', 'generate_metadata', "a model's metadata (printed, and metadata.json written into -o)"],
  ] as const) {
    cmd
      .command(name)
      .description(what)
      .requiredOption('-i, --input <file>', 'the model (or a .zip / .tar.gz of one)')
      .option('--root-file <path>', 'the model to load inside the .zip / .tar.gz (default: the first model file in it)')
      .option('-p, --params <json>', "the process's params, JSON")
      .option('-o, --output <dir>', 'where to write the outputs', '.')
      .option('-f, --force', 'replace files of the same names there')
      .option('-q, --queue <queue>', 'the queue')
      .option('-l, --time-limit <seconds>', 'the run limit')
      .option('-a, --alias <name>', "the job's name")
      .action(
        act(async (o: SubmitOptions & { output: string; force?: boolean }) => {
          const client = api();
          const state = await submitJob(client, g(), submitFields(process_, o), { file: o.input });
          if (!g().json) process.stderr.write(`Job [ ${state.uuid} ] started\n`);
          const details = await watch(client, g(), state.uuid);
          if (details.status !== 'SUCCESS') return report(g(), details, { batch: true });
          const files = await downloadOutputs(client, g(), state.uuid, o.output, o.force);
          if (g().json) print({ ...details, files });
          else {
            if (name === 'metadata') print(details.result);
            for (const f of files) print(`${green('✓')} ${f}`);
          }
          return 0;
        }),
      );
  }
  job(cmd.command('cancel').description('cancel a job (its sub-tasks and script processes go with it)')).action(
    act(async (o: { job: string }) => {
      const state = await api().json(`/jobs/${o.job}/cancel`, { method: 'POST' });
      print(g().json ? state : `Job [ ${o.job} ] ${colourOf(state.status)(state.status)}`);
    }),
  );
  job(cmd.command('delete').description('delete a job and its files (cancelling it first)')).action(
    act(async (o: { job: string }) => {
      const state = await api().json(`/jobs/${o.job}`, { method: 'DELETE' });
      print(g().json ? state : `Job [ ${o.job} ] ${state.deleted ? 'deleted' : 'cancelled (its files are its parent’s)'}`);
    }),
  );
  job(cmd.command('open').description('the job in the dashboard (its address; opened in a browser when there is one)')).action(
    act(async (o: { job: string }) => {
      const url = `${api().server.url}/ui#/jobs/${o.job}`;
      print(g().json ? { url } : url);
      if (process.stdout.isTTY && !g().json) {
        const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
        spawn(opener, [url], { stdio: 'ignore', detached: true }).on('error', () => {}).unref();
      }
    }),
  );
  job(cmd.command('logs').description("a job's script output"))
    .option('-f, --follow', 'stream it until the job ends')
    .action(
      act(async (o: { job: string; follow?: boolean }) => {
        const res = await api().fetch(`/jobs/${o.job}/logs${o.follow ? '?follow=true' : ''}`);
        if (!res.ok) throw new CliError(`${res.status}: ${await res.text()}`);
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) process.stdout.write(chunk);
      }),
    );
  // A job given by the start of its id (as the bars show it): the one job it names.
  cmd.hook('preAction', async (_top, action) => {
    const id = action.opts().job as string | undefined;
    if (id !== undefined && !UUID.test(id)) action.setOptionValue('job', await resolveJobId(api(), id));
  });
  cmd.hook('postAction', () => {
    process.exitCode = exitCode;
  });
  return cmd;
}

export async function main(argv = process.argv): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (err) {
    if (err instanceof CliError) {
      if (err.message) process.stderr.write(`${red('error:')} ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    throw err;
  }
}

if (require.main === module) void main();

