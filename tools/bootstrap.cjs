#!/usr/bin/env node
'use strict';
// prestart / pretest / postinstall: installs what a fresh clone lacks (node_modules, the Temporal
// CLI) and does nothing, quickly, when all is there. Plain Node: it runs before any dependency.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ensureTemporalCli, ROOT } = require('./temporal-cli.cjs');
const { ensurePythonPackage } = require('./python-package.cjs');

const postinstall = process.argv.includes('--postinstall');
const lifecycle = process.env.npm_lifecycle_event || '';
const log = (m) => console.error(`[bootstrap] ${m}`);

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function dependenciesStale() {
  const installed = mtime(path.join(ROOT, 'node_modules', '.package-lock.json'));
  if (installed === undefined) return true;
  const lock = mtime(path.join(ROOT, 'package-lock.json'));
  const manifest = mtime(path.join(ROOT, 'package.json'));
  return (lock !== undefined && lock > installed) || (manifest !== undefined && manifest > installed);
}

function installDependencies() {
  const npm = process.env.npm_execpath
    ? [process.execPath, [process.env.npm_execpath]]
    : [process.platform === 'win32' ? 'npm.cmd' : 'npm', []];
  const sub = fs.existsSync(path.join(ROOT, 'package-lock.json')) ? 'ci' : 'install';
  log(`installing node packages (npm ${sub})`);
  const res = spawnSync(npm[0], [...npm[1], sub, '--no-audit', '--no-fund'], { cwd: ROOT, stdio: 'inherit' });
  if (res.status !== 0) {
    log(`npm ${sub} failed (exit ${res.status ?? res.error?.message})`);
    process.exit(1);
  }
}

function main() {
  if (!postinstall && dependenciesStale()) installDependencies(); // its postinstall brings the CLI
  // The script processes' JavaScript; without it (esbuild missing), they load TypeScript, slower.
  try {
    require('./build-runtime.cjs').ensureRuntime({ log });
  } catch (err) {
    log(`script processes will load TypeScript: ${err.message}`);
  }
  // Python job scripts: the venv's interpreter sees `pixyz_worker` (a missing Python only stops them).
  const pythonProblem = ensurePythonPackage({ log });
  if (pythonProblem) log(pythonProblem);
  // The worker and the API alone connect to a server, and so does `npm start` against an existing
  // cluster (TEMPORAL_ADDRESS). Tests always start their own.
  const needCli =
    postinstall || lifecycle === 'pretest' || (lifecycle === 'prestart' && !process.env.TEMPORAL_ADDRESS);
  if (!needCli) return;
  try {
    ensureTemporalCli({ log });
  } catch (err) {
    log(err.message);
    // Someone pointing TEMPORAL_ADDRESS at their own cluster must still be able to `npm install`.
    if (postinstall) {
      log('continuing: npm start will need TEMPORAL_ADDRESS or one of the alternatives above');
      return;
    }
    process.exit(1);
  }
}

main();
