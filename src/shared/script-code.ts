// Job scripts as CommonJS: compiled once per content with esbuild — by the worker, before it hands
// the job to a script process, so that script processes need no compiler — then evaluated afresh
// for each job. A script that only an ES module can express is loaded by import() instead.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TransformOptions, TransformResult } from 'esbuild';

/** Esbuild loaders of the extensions that are CommonJS, or may become it, outside a `"type": "module"` package. */
const LOADERS: Record<string, 'ts' | 'tsx' | 'js' | 'jsx'> = { '.ts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.js': 'js', '.cjs': 'js', '.jsx': 'jsx' };

/** A script to compile: its cache key (content, loader, and the path where the code depends on it) and esbuild's options. */
interface Compilation {
  key: string;
  source: string;
  options: TransformOptions;
}

/** What compiling `script` takes; null when it is an ES module (import() loads it) or cannot be read (import() says why). */
function compilation(script: string): Compilation | null {
  const loader = LOADERS[path.extname(script).toLowerCase()];
  if (!loader || (!/\.c[jt]s$/i.test(script) && inModulePackage(path.dirname(script)))) return null;
  let source: string;
  try {
    source = fs.readFileSync(script, 'utf8');
  } catch {
    return null;
  }
  // The source map names the file by its base name, so that one compilation serves every copy
  // of a script, unless the script reads import.meta, which then holds its own path.
  const sourcefile = path.basename(script);
  const meta = source.includes('import.meta');
  const key = createHash('sha256').update(`${loader}\0${meta ? script : sourcefile}\0`).update(source).digest('hex');
  const define: Record<string, string> = meta
    ? {
        'import.meta.url': JSON.stringify(pathToFileURL(script).href),
        'import.meta.filename': JSON.stringify(script),
        'import.meta.dirname': JSON.stringify(path.dirname(script)),
      }
    : {};
  return { key, source, options: { loader, format: 'cjs', target: `node${process.versions.node}`, sourcemap: 'inline', sourcefile, define } };
}

/** The compiled code, or null: what else import.meta holds (resolve) exists only in an ES module. */
function accepted(out: TransformResult): string | null {
  return out.warnings.some((w) => w.text.includes('import.meta')) ? null : out.code;
}

/** Compiled scripts by content, the most recently used kept, up to a total size. */
export class CompiledScripts {
  private readonly entries = new Map<string, string | null>();
  private bytes = 0;

  constructor(private readonly maxBytes = 64 * 2 ** 20) {}

  get(key: string): string | null | undefined {
    const code = this.entries.get(key);
    if (code !== undefined) {
      this.entries.delete(key); // most recent last
      this.entries.set(key, code);
    }
    return code;
  }

  set(key: string, code: string | null): void {
    this.entries.set(key, code);
    this.bytes += code?.length ?? 0;
    for (const [oldest, old] of this.entries) {
      if (this.bytes <= this.maxBytes || oldest === key) break;
      this.entries.delete(oldest);
      this.bytes -= old?.length ?? 0;
    }
  }
}

/** The script's code when known (null: an ES module), else what compiling it takes. */
function lookup(script: string, cache: CompiledScripts): { code: string | null } | { todo: Compilation } {
  const c = compilation(script);
  if (c === null) return { code: null };
  const known = cache.get(c.key);
  return known === undefined ? { todo: c } : { code: known };
}

/** Keeps what esbuild made of `c` (null: it threw, on top-level await or a syntax error). */
function settle(cache: CompiledScripts, c: Compilation, out: TransformResult | null): string | null {
  const code = out === null ? null : accepted(out);
  cache.set(c.key, code);
  return code;
}

/**
 * The script as CommonJS with an inline source map (stack traces name its own lines), or null:
 * load it with import() (an ES module; top-level await or a syntax error, which import() reports
 * as it always did). Without a worker to compile it, a script process calls this itself.
 */
export function commonJsOfSync(script: string, cache: CompiledScripts): string | null {
  const found = lookup(script, cache);
  if (!('todo' in found)) return found.code;
  // Loaded on first use: a script process that the worker hands compiled scripts never needs it.
  const { transformSync } = require('esbuild') as typeof import('esbuild');
  let out: TransformResult | null = null;
  try {
    out = transformSync(found.todo.source, found.todo.options);
  } catch {
    // import() reports it
  }
  return settle(cache, found.todo, out);
}

/** commonJsOfSync without blocking: the worker's, off its event loop (esbuild's service compiles). */
export async function commonJsOf(script: string, cache: CompiledScripts): Promise<string | null> {
  const found = lookup(script, cache);
  if (!('todo' in found)) return found.code;
  const { transform } = require('esbuild') as typeof import('esbuild');
  const out = await transform(found.todo.source, found.todo.options).catch(() => null);
  return settle(cache, found.todo, out);
}

/** True when the nearest package.json makes `.js`/`.ts` files ES modules. */
function inModulePackage(dir: string): boolean {
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      try {
        return (JSON.parse(fs.readFileSync(file, 'utf8')) as { type?: unknown }).type === 'module';
      } catch {
        return true; // malformed: import() reports it as Node does
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir || path.basename(dir) === 'node_modules') return false;
    dir = parent;
  }
}
