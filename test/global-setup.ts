// One real `temporal server start-dev` (in memory, headless, free port) for the whole run, and
// one workflow bundle shared by every test file's workers. Each test file uses its own task
// queues (TASK_QUEUE_PREFIX) and share directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };
import { ensureTemporalCli } from '../tools/temporal-cli.cjs';
import { freePort, startDevServer } from '../src/shared/dev-server';
import { bundleWorkflows } from '../src/worker/worker';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-test-'));
  const cli = ensureTemporalCli();
  const bundling = bundleWorkflows();
  const server = await startDevServer({
    cliPath: cli.path,
    port: await freePort(),
    namespace: 'default',
    logFile: path.join(dir, 'temporal.log'),
  });
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  try {
    fs.writeFileSync(bundlePath, (await bundling).code);
  } catch (err) {
    await server.stop();
    throw err;
  }
  project.provide('temporalAddress', server.address);
  project.provide('workflowBundlePath', bundlePath);
  return async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
