// pixyz-local: run a job script on this machine, no scheduler, no Temporal.
//   pixyz-local scripts/tutorial/00_progress.ts -i model.obj -o out/ --params '{"steps":2}'
import { parseArgs } from 'node:util';
import { LocalPixyzTask } from './local';
import { installSdkResolution } from './resolve';

const USAGE = `usage: pixyz-local <script> [-i input] [-o outputDir] [-e entrypoint] [-p params-json]

Runs <script>'s entrypoint (default main) here, with its sub-tasks in this process.
Prints the progress to stderr and the result as JSON to stdout.`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        input: { type: 'string', short: 'i' },
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
  installSdkResolution();
  let shown = 0;
  const result = await LocalPixyzTask.fromCommandline(positionals[0]!, values.output ?? process.cwd(), values.entrypoint, params, values.input ?? null, (pc) => {
    const { steps, progress } = pc.progress;
    for (; shown < steps.length; shown++) console.error(`[${String(progress).padStart(3)}%] ${steps[shown]!.info}`);
  });
  process.stdout.write(`${JSON.stringify(result ?? null)}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
