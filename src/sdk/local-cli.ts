// pixyz-local: run a job script on this machine, no scheduler, no Temporal.
//   pixyz-local scripts/tutorial/00_progress.ts -i model.obj -o out/ --params '{"steps":2}'
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { archiveKind, ArchiveRefusal, extractArchive, findRootFile } from '../shared/archive';
import { extractLimits, loadConfig } from '../shared/config';
import { LocalPixyzTask } from './local-task';
import { installSdkResolution } from './resolve';

const USAGE = `usage: pixyz-local <script> [-i input] [-r root-file] [-o outputDir] [-e entrypoint] [-p params-json]

Runs <script>'s entrypoint (default main) here, with its sub-tasks in this process (a
Python script .py runs with 'python -m pixyz_worker.local', which takes the same flags).
An input .zip or .tar.gz is unpacked into a temporary folder, as the scheduler does, and its
root file (-r, else the first model file in it) is the job's input file.
Prints the progress to stderr and the result as JSON to stdout.`;

/** The input as the scheduler would give it: an archive unpacked (into `scratch`), its root file. */
async function localInput(input: string | null, rootFile: string | null, scratch: string): Promise<string | null> {
  if (input === null || !archiveKind(input)) {
    if (rootFile !== null) throw new ArchiveRefusal('InvalidInput', '--root-file applies to a .zip or .tar.gz input');
    return input;
  }
  const dest = path.join(scratch, 'extracted');
  await extractArchive(input, dest, extractLimits(loadConfig()));
  return findRootFile(dest, rootFile, path.basename(input));
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        input: { type: 'string', short: 'i' },
        'root-file': { type: 'string', short: 'r' },
        output: { type: 'string', short: 'o' },
        entrypoint: { type: 'string', short: 'e', default: 'main' },
        params: { type: 'string', short: 'p', default: '{}' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length !== 1) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  let params: unknown;
  try {
    params = JSON.parse(values.params!);
  } catch (err) {
    console.error(`--params is not JSON: ${(err as Error).message}`);
    return 2;
  }
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-local-'));
  try {
    let input: string | null;
    try {
      input = await localInput(values.input ?? null, values['root-file'] ?? null, scratch);
    } catch (err) {
      if (!(err instanceof ArchiveRefusal)) throw err;
      console.error(err.message);
      return 2;
    }
    installSdkResolution();
    let shown = 0;
    const result = await LocalPixyzTask.fromCommandline(positionals[0]!, values.output ?? process.cwd(), values.entrypoint, params, input, (pc) => {
      const { steps, progress } = pc.progress;
      for (; shown < steps.length; shown++) console.error(`[${String(progress).padStart(3)}%] ${steps[shown]!.info}`);
    });
    process.stdout.write(`${JSON.stringify(result ?? null)}\n`);
    return 0;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
