import fs from 'node:fs';
import path from 'node:path';

/** Job scripts: TypeScript and JavaScript (Node's runner), Python (`pixyz_worker.runner`). */
export const SCRIPT_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.py'];

/** A process's name: a script's file stem in PROCESS_PATH. */
export const PROCESS_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$/;

/** A job script run by the Python runner, not by Node's. */
export function isPythonScript(file: string): boolean {
  return file.toLowerCase().endsWith('.py');
}

/** The script of a process (the first of SCRIPT_EXTENSIONS there is), or null when there is no such process (or the name is not one). */
export function processScript(processPath: string, name: string): string | null {
  if (!PROCESS_NAME.test(name)) return null;
  for (const ext of SCRIPT_EXTENSIONS) {
    const file = path.join(processPath, `${name}${ext}`);
    if (fs.existsSync(file)) return file;
  }
  return null;
}
