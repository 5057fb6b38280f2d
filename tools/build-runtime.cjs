'use strict';
// The script processes' code as JavaScript: the runner, the SDK, the geometry library and what
// they share (src/sdk, src/geometry, src/shared), transpiled file by file with esbuild into
// build/runtime/<hash of the sources>/src/…, so that a script process loads plain CommonJS and
// no TypeScript loader. Built by the install step (bootstrap) and checked by each worker as it
// starts: a worker whose sources changed since builds the new tree itself (a fraction of a
// second). Trees are named by content, so that workers of different checkouts never overwrite one
// another's, and are written aside and renamed into place, so that none is ever seen half-written.
const { createHash, randomBytes } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
/** The source directories a script process loads from (none imports beyond them but node_modules). */
const DIRS = ['src/sdk', 'src/shared', 'src/geometry'];
const BUILD = path.join(ROOT, 'build', 'runtime');
/** Trees of other sources are removed once unused for this long (a running worker touches its own every hour)… */
const STALE_MS = 24 * 3600 * 1000;
/** …and when they are not among the latest few used. */
const KEEP_LATEST = 10;
const TOUCH_EVERY_MS = 3600 * 1000;
/** What the runner's JavaScript needs of Node (package.json's engines). */
const TARGET = 'node20';

/** The runtime's sources, by path relative to the repository, sorted. */
function sources() {
  const files = [];
  for (const dir of DIRS) {
    for (const name of fs.readdirSync(path.join(ROOT, dir), { recursive: true })) {
      if (/\.(ts|mjs)$/.test(name) && !name.endsWith('.d.ts')) files.push(`${dir}/${name.split(path.sep).join('/')}`);
    }
  }
  return files.sort();
}

const TSCONFIG = path.join(ROOT, 'tsconfig.json');

/**
 * The compiler options esbuild honours (strict mode, class fields…), as tsx took them from the
 * repository's tsconfig (JSON with comments: read by TypeScript's own reader, when building only).
 */
function tsconfigRaw() {
  const read = require('typescript').parseConfigFileTextToJson(TSCONFIG, fs.readFileSync(TSCONFIG, 'utf8'));
  if (read.error) throw new Error(`tsconfig.json: ${read.error.messageText}`);
  return { compilerOptions: read.config.compilerOptions };
}

/** The tree's name: the sources, the compiler options, this builder and esbuild's version, hashed. */
function treeName(files, esbuildVersion) {
  const hash = createHash('sha256')
    .update(`${TARGET}\0${esbuildVersion}\0`)
    .update(fs.readFileSync(__filename))
    .update(fs.readFileSync(TSCONFIG));
  for (const file of files) hash.update(`\0${file}\0`).update(fs.readFileSync(path.join(ROOT, file)));
  return hash.digest('hex').slice(0, 16);
}

/**
 * A relative require of `file` as the built `out` must spell it: as is within the tree, else
 * (tools/*.cjs) the checkout's own file, relative to where `out` lies.
 */
function outside(file, spec, out) {
  const target = path.resolve(ROOT, path.dirname(file), spec);
  if (DIRS.some((d) => !path.relative(path.join(ROOT, d), target).startsWith('..'))) return spec;
  // Only plain JavaScript can be required from where it lies: TypeScript elsewhere in src/ would
  // fail in a script process, at run time; here it fails the build (the worker then loads TypeScript).
  if (!/\.(cjs|js|json)$/.test(target) || !fs.existsSync(target)) {
    throw new Error(`${file} requires ${spec}, outside ${DIRS.join(', ')}: only a .cjs/.js/.json file may be`);
  }
  const rel = path.relative(path.dirname(out), target).split(path.sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

function writeTree(dir, files, esbuild) {
  const tsconfig = tsconfigRaw();
  for (const file of files) {
    const source = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const out = path.join(dir, file.replace(/\.ts$/, '.js'));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    if (file.endsWith('.mjs')) {
      fs.writeFileSync(out, source); // the ES-module facades: plain JavaScript already
      continue;
    }
    // An inline source map naming the .ts file where it lies: traces through the SDK show its lines.
    const sourcefile = path.relative(path.dirname(out), path.join(ROOT, file)).split(path.sep).join('/');
    const { code } = esbuild.transformSync(source, { loader: 'ts', format: 'cjs', target: TARGET, sourcefile, sourcemap: 'inline', sourcesContent: false, tsconfigRaw: tsconfig });
    fs.writeFileSync(out, code.replace(/\brequire\("(\.\.?\/[^"]+)"\)/g, (_, spec) => `require(${JSON.stringify(outside(file, spec, out))})`));
  }
}

function touch(dir) {
  const now = new Date();
  try {
    fs.utimesSync(dir, now, now);
  } catch {
    // a read-only checkout (the image): nothing prunes it either
  }
}

/** Removes left-over temporaries from `build`, and trees neither among the latest used nor used for a day. */
function prune(build, keep) {
  let entries;
  try {
    entries = fs.readdirSync(build).map((name) => ({ name, mtime: fs.statSync(path.join(build, name)).mtimeMs }));
  } catch {
    return;
  }
  const now = Date.now();
  const trees = entries.filter((e) => !e.name.startsWith('.')).sort((a, b) => b.mtime - a.mtime);
  const latest = new Set(trees.slice(0, KEEP_LATEST).map((e) => e.name));
  for (const { name, mtime } of entries) {
    if (name === keep || latest.has(name)) continue;
    const temporary = name.startsWith('.tmp-');
    if (now - mtime < (temporary ? 3600 * 1000 : STALE_MS)) continue;
    // Renamed first: a tree half removed is never seen under its name.
    const doomed = path.join(build, `.tmp-dead-${randomBytes(4).toString('hex')}`);
    try {
      fs.renameSync(path.join(build, name), doomed);
      fs.rmSync(doomed, { recursive: true, force: true });
    } catch {
      // another process removed it meanwhile
    }
  }
}

/**
 * Makes sure the tree of the current sources exists and returns its directory (the runner is
 * `<dir>/src/sdk/runner.js`). Throws when it cannot be built (esbuild missing, a read-only
 * checkout without the tree): the caller falls back to loading TypeScript.
 */
function ensureRuntime(opts = {}) {
  const esbuild = require('esbuild');
  const files = sources();
  const name = treeName(files, esbuild.version);
  const dir = path.join(BUILD, name);
  if (fs.existsSync(path.join(dir, 'src', 'sdk', 'runner.js'))) {
    touch(dir); // in use: not pruned
    return dir;
  }
  const started = Date.now();
  const tmp = path.join(BUILD, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    writeTree(tmp, files, esbuild);
    try {
      fs.renameSync(tmp, dir);
    } catch (err) {
      // Another process built the same tree meanwhile: theirs is as good.
      if (!fs.existsSync(path.join(dir, 'src', 'sdk', 'runner.js'))) throw err;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  prune(BUILD, name);
  if (opts.log) opts.log(`built the script processes' JavaScript (${files.length} files, ${Date.now() - started} ms): ${path.relative(ROOT, dir)}`);
  return dir;
}

/** Marks `dir` as in use every hour while its worker runs (no other checkout's build prunes it); returns the stop. */
function keepRuntime(dir) {
  const timer = setInterval(() => touch(dir), TOUCH_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

module.exports = { ensureRuntime, keepRuntime, prune, BUILD };

if (require.main === module) {
  try {
    console.log(ensureRuntime({ log: (m) => console.error(`[build-runtime] ${m}`) }));
  } catch (err) {
    console.error(`[build-runtime] ${err.message}`);
    process.exit(1);
  }
}
