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
  // The source map (mappings only: the source is on disk) names the file by its base name, so that one compilation serves every copy
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
  return { key, source, options: { loader, format: 'cjs', target: `node${process.versions.node}`, sourcemap: 'inline', sourcesContent: false, sourcefile, define } };
}

/** The compiled code, or null: what else import.meta holds (resolve) exists only in an ES module. */
function accepted(out: TransformResult): string | null {
  return out.warnings.some((w) => w.text.includes('import.meta')) ? null : out.code;
}

/** What an entry costs the cache beyond its code (its key, the map's own). */
const ENTRY_BYTES = 128;

/** Compiled scripts by content, the most recently used kept, up to a total size. */
export class CompiledScripts {
  private readonly entries = new Map<string, string | null>();
  private bytes = 0;
  /** Compilations under way, by key: jobs of one script posted at once share one. */
  readonly pending = new Map<string, Promise<string | null | undefined>>();

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
    this.remove(key);
    this.entries.set(key, code);
    this.bytes += ENTRY_BYTES + (code?.length ?? 0);
    for (const oldest of this.entries.keys()) {
      if (this.bytes <= this.maxBytes || oldest === key) break;
      this.remove(oldest);
    }
  }

  /** What the entries count, for tests. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  private remove(key: string): void {
    if (!this.entries.has(key)) return;
    this.bytes -= ENTRY_BYTES + (this.entries.get(key)?.length ?? 0);
    this.entries.delete(key);
  }
}

/** The script's code when known (null: an ES module), else what compiling it takes. */
function lookup(script: string, cache: CompiledScripts): { code: string | null } | { todo: Compilation } {
  const c = compilation(script);
  if (c === null) return { code: null };
  const known = cache.get(c.key);
  return known === undefined ? { todo: c } : { code: known };
}

/**
 * What esbuild made of the script, kept: its code, or null when it refused the script itself (a
 * syntax error, top-level await: import() reports them as it always did). A failure of esbuild
 * itself (its service gone) is kept as nothing: undefined, compile it elsewhere.
 */
function settle(cache: CompiledScripts, c: Compilation, out: { ok: TransformResult } | { failed: unknown }): string | null | undefined {
  if ('failed' in out && !refused(out.failed)) return undefined;
  const code = 'ok' in out ? accepted(out.ok) : null;
  cache.set(c.key, code);
  return code;
}

/** True when esbuild refused the source (its errors point into it), not when it could not run. */
function refused(err: unknown): boolean {
  const errors = (err as { errors?: { location?: unknown }[] } | null)?.errors;
  return Array.isArray(errors) && errors.some((e) => e.location != null);
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
  let out: { ok: TransformResult } | { failed: unknown };
  try {
    out = { ok: transformSync(found.todo.source, found.todo.options) };
  } catch (err) {
    out = { failed: err };
  }
  return settle(cache, found.todo, out) ?? null; // no other compiler here: import() says what is wrong
}

/**
 * commonJsOfSync without blocking: the worker's, off its event loop (esbuild's service compiles).
 * Never rejects; undefined when esbuild itself failed (the script process then compiles).
 */
export async function commonJsOf(script: string, cache: CompiledScripts): Promise<string | null | undefined> {
  let found: ReturnType<typeof lookup>;
  try {
    found = lookup(script, cache);
  } catch {
    return undefined;
  }
  if (!('todo' in found)) return found.code;
  const c = found.todo;
  let compiling = cache.pending.get(c.key);
  if (!compiling) {
    // Started on the next tick: it is listed as pending before it can end.
    compiling = Promise.resolve()
      .then(async () => {
        const { transform } = require('esbuild') as typeof import('esbuild');
        return settle(cache, c, { ok: await transform(c.source, c.options) });
      })
      .catch((err: unknown) => settle(cache, c, { failed: err }))
      .finally(() => cache.pending.delete(c.key));
    cache.pending.set(c.key, compiling);
  }
  return compiling;
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
