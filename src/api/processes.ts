import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { SCRIPT_EXTENSIONS } from './script-options';

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$/;

/** The predefined processes: every job script in PROCESS_PATH, by file stem, sorted. */
export async function listProcesses(processPath: string): Promise<string[]> {
  const files = await fsp.readdir(processPath).catch(() => [] as string[]);
  const names = files
    .filter((f) => SCRIPT_EXTENSIONS.includes(path.extname(f)) && !f.endsWith('.d.ts'))
    .map((f) => path.basename(f, path.extname(f)))
    .filter((n) => NAME.test(n));
  return [...new Set(names)].sort();
}

/** The script of a process, or null when there is no such process (or the name is not one). */
export function processScript(processPath: string, name: string): string | null {
  if (!NAME.test(name)) return null;
  for (const ext of SCRIPT_EXTENSIONS) {
    const file = path.join(processPath, `${name}${ext}`);
    if (fs.existsSync(file)) return file;
  }
  return null;
}

/** The refusal of a process name that is not one, listing those there are. */
export async function unknownProcess(processPath: string, name: string): Promise<string> {
  const known = await listProcesses(processPath);
  return `Invalid process '${name}': the processes are ${known.length ? known.join(', ') : 'none (PROCESS_PATH holds no script)'}, or 'custom' with a script`;
}
