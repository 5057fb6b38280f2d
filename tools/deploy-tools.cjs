'use strict';
// The tools that check deploy/ on a machine without helm or docker, from PyPI, in
// .deploy-tools/venv, installed on first use: Helm itself as a library (helm-python-sdk), and
// check-jsonschema with its copy of the Compose Specification's schema.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const VENV = path.join(ROOT, '.deploy-tools', 'venv');
const PYTHON = path.join(VENV, 'bin', 'python');
const PACKAGES = ['helm-python-sdk==0.2.2', 'check-jsonschema==0.39.0'];
const CHECK_JSONSCHEMA = path.join(VENV, 'bin', 'check-jsonschema');
const HELM_SCRIPT = path.join(ROOT, 'deploy', 'check', 'helm.py');

function run(cmd, args) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${res.stderr || res.error?.message}`);
  return res.stdout;
}

/** The venv's python, with Helm's library and check-jsonschema (installs them the first time: ~80 MB). */
function ensureDeployTools() {
  const installed = () =>
    fs.existsSync(PYTHON) && fs.existsSync(CHECK_JSONSCHEMA) && spawnSync(PYTHON, ['-c', 'import helm_python'], { stdio: 'ignore' }).status === 0;
  if (installed()) return PYTHON;
  fs.mkdirSync(path.dirname(VENV), { recursive: true });
  if (!fs.existsSync(PYTHON)) run('python3', ['-m', 'venv', VENV]);
  run(PYTHON, ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', ...PACKAGES]);
  if (!installed()) throw new Error(`${PACKAGES.join(', ')} installed, but not usable from ${VENV}`);
  return PYTHON;
}

/** `helm lint` (strict) or `helm template` of `chart` with the values files; { status, stdout, stderr }. */
function helm(command, chart, valuesFiles = []) {
  const res = spawnSync(ensureDeployTools(), [HELM_SCRIPT, command, chart, ...valuesFiles], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** check-jsonschema of `file` against the Compose Specification's schema; { status, stdout }. */
function checkCompose(file) {
  ensureDeployTools();
  const res = spawnSync(CHECK_JSONSCHEMA, ['--builtin-schema', 'vendor.compose-spec', file], { encoding: 'utf8' });
  return { status: res.status, stdout: res.stdout + res.stderr };
}

module.exports = { ensureDeployTools, helm, checkCompose };
