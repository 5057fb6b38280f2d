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
