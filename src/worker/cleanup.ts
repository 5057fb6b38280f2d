// Retention of job directories (upstream's CLEANUP_*): a worker serving the `share` queue removes
// the directories of jobs that ended more than JOB_RETENTION ago, the same period Temporal keeps
// their history.
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../shared/log';
import { isJobId, jobPaths } from '../shared/share';

export interface CleanupOptions {
  sharePath: string;
  retentionSeconds: number;
  intervalMs: number;
  log: Logger;
}

async function ageSeconds(file: string): Promise<number | null> {
  try {
    return (Date.now() - (await fsp.stat(file)).mtimeMs) / 1000;
  } catch {
    return null;
  }
}

/** A directory without state.json (its job never ended, or ended before state.json existed) is kept this long at least. */
const ABANDONED_AFTER_SECONDS = 30 * 86400;

/**
 * One sweep: a directory goes when its job's state.json (written when the job ended) is older
 * than the retention; a directory without one only when untouched for twice the retention and
 * at least 30 days, so that a queued or running job's is never taken.
 */
export async function sweep({ sharePath, retentionSeconds, log }: Omit<CleanupOptions, 'intervalMs'>): Promise<string[]> {
  const removed: string[] = [];
  const entries = await fsp.readdir(sharePath, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isDirectory() || !isJobId(entry.name)) continue;
    const paths = jobPaths(sharePath, entry.name);
    const ended = await ageSeconds(paths.state);
    const expired =
      ended !== null
        ? ended > retentionSeconds
        : ((await ageSeconds(paths.dir)) ?? 0) > Math.max(2 * retentionSeconds, ABANDONED_AFTER_SECONDS);
    if (!expired) continue;
    await fsp.rm(path.join(sharePath, entry.name), { recursive: true, force: true });
    removed.push(entry.name);
  }
  if (removed.length) log.info(`removed ${removed.length} job directories older than JOB_RETENTION`);
  return removed;
}

/** Sweeps now and then every `intervalMs`; returns a stop function. */
export function startCleanup(opts: CleanupOptions): () => void {
  let running = false;
  const tick = () => {
    if (running) return;
    running = true;
    sweep(opts)
      .catch((err) => opts.log.warn(`job directory cleanup: ${(err as Error).message}`))
      .finally(() => (running = false));
  };
  const timer = setInterval(tick, opts.intervalMs);
  timer.unref();
  tick();
  return () => clearInterval(timer);
}
