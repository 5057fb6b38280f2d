// Job directories no job will ever own: an upload cut short by the API's own death (a crash, a
// kill -9) leaves its directory with no workflow behind it. The API removes them at start and
// every minute, once nothing has been written into them for a minute (a submission in progress,
// even one whose client stalls, dates its directory afresh every 15 s: see submit.ts).
import fsp from 'node:fs/promises';
import path from 'node:path';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from '../shared/log';
import { isJobId, jobPaths } from '../shared/share';

/** A directory untouched this long with no workflow is an orphan. */
export const ORPHAN_AFTER_MS = 60_000;
export const ORPHAN_SWEEP_EVERY_MS = 60_000;

/** The newest write into a job directory's own entries and its inputs (an upload in progress keeps it fresh). */
async function lastWrite(dir: string): Promise<number> {
  let newest = 0;
  const look = async (p: string) => {
    const stat = await fsp.stat(p).catch(() => null);
    if (stat) newest = Math.max(newest, stat.mtimeMs);
  };
  await look(dir);
  const inputs = path.join(dir, 'inputs');
  await look(inputs);
  for (const name of await fsp.readdir(inputs).catch(() => [] as string[])) await look(path.join(inputs, name));
  return newest;
}

export interface OrphanSweeper {
  /** One sweep now; resolves with the directories removed. */
  sweep(): Promise<string[]>;
  stop(): void;
}

/**
 * Removes directories of SHARE_PATH named as jobs that have no state.json (their job never
 * ended), no workflow in Temporal, and no write for ORPHAN_AFTER_MS (an upload in progress writes
 * its file). Jobs seen to exist are remembered, not asked about again.
 */
export function startOrphanSweeper(opts: { sharePath: string; client: Client; log: Logger }): OrphanSweeper {
  const known = new Set<string>();
  let running: Promise<string[]> | null = null;
  const once = async (): Promise<string[]> => {
    const removed: string[] = [];
    const entries = await fsp.readdir(opts.sharePath, { withFileTypes: true }).catch(() => []);
    // Forget jobs whose directories went (the retention cleanup): the set stays the size of the share.
    const present = new Set(entries.map((e) => e.name));
    for (const id of known) if (!present.has(id)) known.delete(id);
    for (const entry of entries) {
      const id = entry.name;
      if (!entry.isDirectory() || !isJobId(id) || known.has(id)) continue;
      const paths = jobPaths(opts.sharePath, id);
      if (await fsp.stat(paths.state).catch(() => null)) continue; // an ended job: the retention cleanup's
      if (Date.now() - (await lastWrite(paths.dir)) < ORPHAN_AFTER_MS) continue;
      try {
        await opts.client.workflow.getHandle(id).describe();
        known.add(id);
        continue;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) continue; // Temporal away: ask next time
      }
      await fsp.rm(paths.dir, { recursive: true, force: true });
      removed.push(id);
    }
    if (removed.length) opts.log.info(`removed ${removed.length} job directories left by uploads that never became jobs`);
    return removed;
  };
  const sweep = () => (running ??= once().finally(() => (running = null)));
  const tick = () => void sweep().catch((err) => opts.log.warn(`orphan job directories: ${(err as Error).message}`));
  const timer = setInterval(tick, ORPHAN_SWEEP_EVERY_MS);
  timer.unref();
  tick();
  return { sweep, stop: () => clearInterval(timer) };
}
