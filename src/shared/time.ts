// Upstream's time formats. Pure: the workflow sandbox imports it (its clock is replay-safe there).

/** Upstream's naive UTC time with microseconds, e.g. 2025-01-02T10:00:00.100000 (a job's request time). */
export function naiveUtc(date: Date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000');
}

/** ISO with microseconds and +00:00, as upstream prints aware times. */
export function awareUtc(date: Date): string {
  return `${naiveUtc(date)}+00:00`;
}

/** awareUtc of a date or an ISO text; null for none. */
export function isoUtc(date: Date | string | null | undefined): string | null {
  if (!date) return null;
  return awareUtc(typeof date === 'string' ? new Date(date) : date);
}

/**
 * A time as upstream's formats write it — naive UTC (a request time) or aware, with microseconds —
 * as a Date; null for none or what is not a time. (Microseconds cut: not every browser parses six digits.)
 */
export function parseUpstreamTime(text: string | null | undefined): Date | null {
  if (!text) return null;
  const ms = text.replace(/(\.\d{3})\d+/, '$1');
  const d = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(ms) ? ms : `${ms}Z`);
  return Number.isNaN(d.getTime()) ? null : d;
}
