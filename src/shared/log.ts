import pino, { type Logger } from 'pino';

export type { Logger };

/** JSON lines for machines; readable lines when a person watches the terminal. */
export function createLogger(level: string, name?: string): Logger {
  const pretty = process.stdout.isTTY && process.env.LOG_FORMAT !== 'json';
  return pino({
    level,
    name,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' } } } : {}),
  });
}
