'use strict';
// Puts the repository's Python package (python/: `pixyz_worker`, and `celery`'s names that upstream
// scripts import) into the project's venv, so that `.temporal/venv/bin/python -m pixyz_worker.local`
// works from any folder. A `.pth` file pointing at python/ (an editable install without pip: the
// package is pure Python with no dependencies). Plain Node, run by the install step.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { ROOT, VENV_DIR, VENV_PYTHON } = require('./temporal-cli.cjs');

const PACKAGE_DIR = path.join(ROOT, 'python');
const isWindows = process.platform === 'win32';
const PTH = 'pixyz_worker.pth';

/** The interpreter of Python job scripts when PIXYZ_PYTHON names none: the project venv's, else `python3`. */
function defaultPython() {
  return fs.existsSync(VENV_PYTHON) ? VENV_PYTHON : 'python3';
}

/** The venv's site-packages folders (one per Python version it holds). */
function sitePackages() {
  if (isWindows) return [path.join(VENV_DIR, 'Lib', 'site-packages')];
  const lib = path.join(VENV_DIR, 'lib');
  let entries = [];
  try {
    entries = fs.readdirSync(lib).filter((e) => /^python3\.\d+$/.test(e));
  } catch {
    return [];
  }
  return entries.map((e) => path.join(lib, e, 'site-packages')).filter((d) => fs.existsSync(d));
}

/** Makes the venv if there is none (the Temporal CLI may come from elsewhere) and links the package into it. */
function ensurePythonPackage({ env = process.env, log = (m) => console.error(m) } = {}) {
  if (!fs.existsSync(VENV_PYTHON)) {
    const pythons = [env.PYTHON, 'python3', 'python'].filter(Boolean);
    const made = pythons.some((py) => {
      log(`$ ${py} -m venv ${path.relative(ROOT, VENV_DIR)}`);
      const res = spawnSync(py, ['-m', 'venv', VENV_DIR], { stdio: ['ignore', 'inherit', 'inherit'] });
      return !res.error && res.status === 0;
    });
    if (!made) return `no Python 3 to make ${path.relative(ROOT, VENV_DIR)}: Python job scripts need PIXYZ_PYTHON set to an interpreter`;
  }
  const dirs = sitePackages();
  if (dirs.length === 0) return `no site-packages in ${path.relative(ROOT, VENV_DIR)}`;
  for (const dir of dirs) {
    const file = path.join(dir, PTH);
    let current;
    try {
      current = fs.readFileSync(file, 'utf8');
    } catch {
      current = undefined;
    }
    if (current !== `${PACKAGE_DIR}\n`) {
      fs.writeFileSync(file, `${PACKAGE_DIR}\n`);
      log(`pixyz_worker linked into ${path.relative(ROOT, dir)}`);
    }
  }
  return undefined;
}

module.exports = { ensurePythonPackage, defaultPython, PACKAGE_DIR };
