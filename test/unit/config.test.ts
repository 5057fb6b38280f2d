import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseBytes, parseDurationSeconds } from '../../src/shared/config';

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

  it('parses durations and sizes', () => {
    expect(parseDurationSeconds('X', '168h')).toBe(7 * 86400);
    expect(parseDurationSeconds('X', '90')).toBe(90);
    expect(() => parseDurationSeconds('X', 'soon')).toThrow(ConfigError);
    expect(parseBytes('X', '512M')).toBe(512 * 1024 ** 2);
    expect(parseBytes('X', '10GiB')).toBe(10 * 1024 ** 3);
  });
});
