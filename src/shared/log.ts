import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** JSON lines for machines; readable lines, in order with what else is printed, when a person watches. */
export function createLogger(level: string, name?: string): Logger {
  if (process.stdout.isTTY && process.env.LOG_FORMAT !== 'json') {
    return pino({ level, name }, pretty({ sync: true, colorize: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' }));
  }
  return pino({ level, name });
}
