// The embedded Temporal dev server of `npm start` (unless TEMPORAL_ADDRESS names a server): its
// start with the checks a developer's machine needs, and its pid file.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ensureTemporalCli } from '../../tools/temporal-cli.cjs';
import { REPO_ROOT, type Config } from './config';
import { startDevServer, type DevServer } from './dev-server';
import type { Logger } from './log';

function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const SERVER_PID_FILE = path.join(REPO_ROOT, '.temporal', 'server.pid');

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops a dev server that an earlier `npm start` left running because it was killed, not
 * stopped. A server whose `npm start` still runs is left alone (the port check then says so).
 */
async function stopLeftoverServer(log: Logger): Promise<void> {
  let pid: number;
  try {
    const recorded = JSON.parse(fs.readFileSync(SERVER_PID_FILE, 'utf8')) as { server: number; owner: number };
    pid = recorded.server;
    if (isRunning(recorded.owner)) return;
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('start-dev')) return;
  } catch {
    return; // no pid file, or that process is gone
  }
  log.warn(`stopping the Temporal dev server an earlier run left behind (pid ${pid})`);
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 50 && fs.existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 100));
}

/**
 * `npm start`'s own Temporal dev server: on its SQLite file in .temporal/, after stopping one an
 * earlier run left behind and checking its ports are free; its pid is recorded for the next run.
 * `onSpawn` receives a kill function as soon as the process exists (a start-up that fails later
 * still stops it).
 */
export async function startEmbeddedServer(config: Config, log: Logger, onSpawn: (kill: () => void) => void): Promise<DevServer> {
  const { devPort, uiPort } = config.temporal;
  await stopLeftoverServer(log);
  for (const [port, what] of [
    [devPort, 'TEMPORAL_DEV_PORT'],
    [uiPort, 'TEMPORAL_UI_PORT'],
  ] as const) {
    if (await portInUse(port)) {
      throw new Error(
        `Port ${port} (${what}) is already in use — perhaps a Temporal server from an earlier run. ` +
          `Stop it, choose another ${what}, or set TEMPORAL_ADDRESS=127.0.0.1:${devPort} to use a server that is already running.`,
      );
    }
  }
  const cli = ensureTemporalCli({ log: (m) => log.info(m) });
  log.info(`starting Temporal dev server (${cli.path}) on :${devPort}, UI on :${uiPort}`);
  const server = await startDevServer({
    cliPath: cli.path,
    ip: '127.0.0.1',
    port: devPort,
    uiPort,
    dbFile: config.temporal.devDbFile,
    namespace: config.temporal.namespace,
    logFile: path.join(REPO_ROOT, '.temporal', 'server.log'),
    onSpawn,
  });
  fs.writeFileSync(SERVER_PID_FILE, JSON.stringify({ server: server.process.pid, owner: process.pid }));
  return {
    ...server,
    stop: async () => {
      await server.stop();
      fs.rmSync(SERVER_PID_FILE, { force: true });
    },
  };
}
