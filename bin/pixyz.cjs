#!/usr/bin/env node
'use strict';
// `pixyz`: the scheduler's command line (src/client/main.ts), with TypeScript support (tsx), from
// any folder once linked (`npm link` in the checkout) or installed globally.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const root = path.resolve(__dirname, '..');
const tsx = pathToFileURL(require.resolve('tsx', { paths: [root] })).href;
// Ctrl-C is the command's to answer (while watching, it asks whether to cancel the job): this
// launcher waits for it rather than dying first.
process.on('SIGINT', () => {});
const res = spawnSync(process.execPath, ['--import', tsx, path.join(root, 'src', 'client', 'main.ts'), ...process.argv.slice(2)], {
  stdio: 'inherit',
});
if (res.signal) process.kill(process.pid, res.signal);
process.exit(res.status ?? 1);
