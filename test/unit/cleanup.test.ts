// Retention of job directories: what goes and what stays.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { sweep } from '../../src/worker/cleanup';

const share = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-cleanup-'));
afterEach(() => {
  for (const e of fs.readdirSync(share)) fs.rmSync(path.join(share, e), { recursive: true, force: true });
});

function job(endedSecondsAgo: number | null, touchedSecondsAgo = 0): string {
  const id = randomUUID();
  const dir = path.join(share, id);
  fs.mkdirSync(path.join(dir, 'outputs'), { recursive: true });
  const past = (s: number) => new Date(Date.now() - s * 1000);
  if (endedSecondsAgo !== null) {
    fs.writeFileSync(path.join(dir, 'state.json'), '{}');
    fs.utimesSync(path.join(dir, 'state.json'), past(endedSecondsAgo), past(endedSecondsAgo));
  }
  fs.utimesSync(dir, past(touchedSecondsAgo), past(touchedSecondsAgo));
  return id;
}

describe('job directory retention', () => {
  it('removes jobs that ended longer ago than the retention, and nothing else', async () => {
    const expired = job(120);
    const recent = job(30);
    const running = job(null, 5 * 86400); // no state.json: queued or running for days
    const abandoned = job(null, 31 * 86400); // no state.json, untouched for over 30 days
    fs.mkdirSync(path.join(share, 'not-a-job'));
    fs.utimesSync(path.join(share, 'not-a-job'), new Date(0), new Date(0));
    const removed = await sweep({ sharePath: share, retentionSeconds: 100, log: pino({ level: 'silent' }) });
    expect(removed.sort()).toEqual([expired, abandoned].sort());
    expect(fs.readdirSync(share).sort()).toEqual([recent, running, 'not-a-job'].sort());
  });
});
