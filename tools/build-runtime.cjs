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
/** Trees of other sources are removed once unused for this long (a worker of an older checkout may still run). */
const STALE_MS = 24 * 3600 * 1000;
/** What the runner's JavaScript needs of Node (package.json's engines). */
const TARGET = 'node20';

/** The runtime's sources, by path relative to the repository, sorted. */
function sources() {
  const files = [];
  for (const dir of DIRS) {
    for (const name of fs.readdirSync(path.join(ROOT, dir)).sort()) {
      if (/\.(ts|mjs)$/.test(name) && !name.endsWith('.d.ts')) files.push(`${dir}/${name}`);
    }
  }
  return files;
}

/** The tree's name: the sources, this builder and esbuild's version, hashed. */
function treeName(files, esbuildVersion) {
  const hash = createHash('sha256').update(`${TARGET}\0${esbuildVersion}\0`).update(fs.readFileSync(__filename));
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
  const rel = path.relative(path.dirname(out), target).split(path.sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

function writeTree(dir, files, esbuild) {
  for (const file of files) {
    const source = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const out = path.join(dir, file.replace(/\.ts$/, '.js'));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    if (file.endsWith('.mjs')) {
      fs.writeFileSync(out, source); // the ES-module facades: plain JavaScript already
      continue;
    }
    const { code } = esbuild.transformSync(source, { loader: 'ts', format: 'cjs', target: TARGET, sourcefile: file });
    fs.writeFileSync(out, code.replace(/\brequire\("(\.\.?\/[^"]+)"\)/g, (_, spec) => `require(${JSON.stringify(outside(file, spec, out))})`));
  }
}

function prune(keep) {
  let entries;
  try {
    entries = fs.readdirSync(BUILD);
  } catch {
    return;
  }
  const now = Date.now();
  for (const name of entries) {
    if (name === keep) continue;
    const dir = path.join(BUILD, name);
    try {
      // Left-over temporaries (a build killed midway) and trees unused for a day.
      if (now - fs.statSync(dir).mtimeMs > (name.startsWith('.tmp-') ? 3600 * 1000 : STALE_MS)) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // another worker removed it meanwhile
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
    const now = new Date();
    try {
      fs.utimesSync(dir, now, now); // in use: not pruned
    } catch {
      // a read-only checkout: the tree is there, that is what counts
    }
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
  prune(name);
  if (opts.log) opts.log(`built the script processes' JavaScript (${files.length} files, ${Date.now() - started} ms): ${path.relative(ROOT, dir)}`);
  return dir;
}

module.exports = { ensureRuntime, BUILD };

if (require.main === module) {
  try {
    console.log(ensureRuntime({ log: (m) => console.error(`[build-runtime] ${m}`) }));
  } catch (err) {
    console.error(`[build-runtime] ${err.message}`);
    process.exit(1);
  }
}
