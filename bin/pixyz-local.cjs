#!/usr/bin/env node
'use strict';
// Runs a job script here, from anywhere: a TypeScript or JavaScript one with src/sdk/local-cli.ts
// (TypeScript support by tsx), a Python one with `python -m pixyz_worker.local` (PIXYZ_PYTHON, else
// the project's venv, else python3), both with the same flags.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const script = args.find((a, i) => !a.startsWith('-') && (i === 0 || !/^-[iroep]$|^--(input|root-file|output|entrypoint|params)$/.test(args[i - 1])));
let res;
if (script && script.toLowerCase().endsWith('.py')) {
  const { defaultPython, PACKAGE_DIR } = require('../tools/python-package.cjs');
  const python = process.env.PIXYZ_PYTHON || defaultPython();
  const env = { ...process.env, PYTHONPATH: [PACKAGE_DIR, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter) };
  res = spawnSync(python, ['-m', 'pixyz_worker.local', ...args], { stdio: 'inherit', env });
  if (res.error) console.error(`pixyz-local: ${python} could not be run (${res.error.message}): set PIXYZ_PYTHON to a Python 3 interpreter`);
} else {
  const tsx = pathToFileURL(require.resolve('tsx', { paths: [root] })).href;
  res = spawnSync(process.execPath, ['--import', tsx, path.join(root, 'src', 'sdk', 'local-cli.ts'), ...args], { stdio: 'inherit' });
}
process.exit(res.status ?? 1);
