import fsp from 'node:fs/promises';
import path from 'node:path';
import { PROCESS_NAME, SCRIPT_EXTENSIONS } from '../shared/processes';

/** The predefined processes: every job script in PROCESS_PATH, by file stem, sorted. */
export async function listProcesses(processPath: string): Promise<string[]> {
  const files = await fsp.readdir(processPath).catch(() => [] as string[]);
  const names = files
    .filter((f) => SCRIPT_EXTENSIONS.includes(path.extname(f)) && !f.endsWith('.d.ts'))
    .map((f) => path.basename(f, path.extname(f)))
    .filter((n) => PROCESS_NAME.test(n));
  return [...new Set(names)].sort();
}

/** The refusal of a process name that is not one, listing those there are. */
export async function unknownProcess(processPath: string, name: string): Promise<string> {
  const known = await listProcesses(processPath);
  return `Invalid process '${name}': the processes are ${known.length ? known.join(', ') : 'none (PROCESS_PATH holds no script)'}, or 'custom' with a script`;
}
