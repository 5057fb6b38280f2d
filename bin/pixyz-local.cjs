#!/usr/bin/env node
'use strict';
// Runs src/sdk/local-cli.ts with TypeScript support (tsx), from anywhere.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const root = path.resolve(__dirname, '..');
const tsx = pathToFileURL(require.resolve('tsx', { paths: [root] })).href;
const res = spawnSync(process.execPath, ['--import', tsx, path.join(root, 'src', 'sdk', 'local-cli.ts'), ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(res.status ?? 1);
