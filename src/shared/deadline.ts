/** setTimeout's ceiling: a longer delay fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * `promise`'s value, or the error `late()` makes once `ms` have passed (null: no limit); the
 * timer never outlives the wait. A sub-task's join with a timeout, in the worker and locally.
 */
export async function withDeadline<T>(promise: Promise<T>, ms: number | null, late: () => Error): Promise<T> {
  // Past setTimeout's ceiling (about 24.8 days) a timer would fire at once: no deadline then.
  if (ms === null || ms > MAX_TIMER_MS) return promise;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(late()), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** The message of a join given up: the same in the worker and in local mode. */
export function lateJoinMessage(id: string, ms: number): string {
  return `sub-task ${id} did not finish within ${ms / 1000} s`;
}
