import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, parseBytes, parseDurationSeconds, usableCores } from '../../src/shared/config';

describe('config', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c.apiPort).toBe(8001);
    expect(c.temporal).toMatchObject({ address: undefined, namespace: 'default', devPort: 7233, uiPort: 8233 });
    expect(c.queues).toEqual(['control', 'cpu', 'gpu']);
    expect(c.worker.queues).toEqual(['control', 'cpu', 'gpu', 'share']);
    expect(c.jobRetentionSeconds).toBe(7 * 86400);
    expect(c.maxUploadBytes).toBe(10 * 1024 ** 3);
    expect(c.godPasswordSha256).toBeUndefined();
    expect(Object.isFrozen(c) && Object.isFrozen(c.worker)).toBe(true);
  });

  it('adds custom queues, always keeps control, and refuses bad values', () => {
    expect(loadConfig({ QUEUES: 'cpu, wine' }).queues).toEqual(['control', 'cpu', 'wine']);
    expect(() => loadConfig({ QUEUES: 'cpu,bad queue' })).toThrow(ConfigError);
    expect(() => loadConfig({ API_PORT: 'eighty' })).toThrow('API_PORT=eighty');
    expect(() => loadConfig({ GOD_PASSWORD_SHA256: 'secret' })).toThrow('64-hex-digit');
    expect(loadConfig({ GOD_PASSWORD_SHA256: 'A'.repeat(64) }).godPasswordSha256).toBe('a'.repeat(64));
  });

  it('counts the cores a container’s CPU quota allows, not the machine’s (the default of CONCURRENT_TASKS)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-cgroup-'));
    const cpuMax = path.join(dir, 'cpu.max');
    try {
      fs.writeFileSync(cpuMax, '150000 100000\n'); // --cpus 1.5
      expect(usableCores(cpuMax)).toBe(Math.min(2, os.availableParallelism()));
      fs.writeFileSync(cpuMax, '50000 100000\n');
      expect(usableCores(cpuMax)).toBe(1);
      fs.writeFileSync(cpuMax, 'max 100000\n'); // no quota
      expect(usableCores(cpuMax)).toBe(os.availableParallelism());
      expect(usableCores(path.join(dir, 'absent'))).toBe(os.availableParallelism());
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses durations and sizes', () => {
    expect(parseDurationSeconds('X', '168h')).toBe(7 * 86400);
    expect(parseDurationSeconds('X', '90')).toBe(90);
    expect(() => parseDurationSeconds('X', 'soon')).toThrow(ConfigError);
    expect(parseBytes('X', '512M')).toBe(512 * 1024 ** 2);
    expect(parseBytes('X', '10GiB')).toBe(10 * 1024 ** 3);
  });
});
