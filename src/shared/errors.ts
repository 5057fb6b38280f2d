// Stable error type strings. They travel across Temporal as ApplicationFailure types, and
// upstreamError (src/shared/job-status.ts) turns them into upstream's error texts in one place.
export const ErrorType = {
  InvalidInput: 'InvalidInput',
  /** The script threw: its own message; not retried. */
  ScriptFailed: 'ScriptFailed',
  /** The script process exited (or crashed) without a result: retried (the job's `retries`, once by default). */
  ScriptExited: 'ScriptExited',
  /** The script process was killed by a signal (OOM killer, kill -9): retried like ScriptExited. */
  ScriptKilled: 'ScriptKilled',
  ScriptTimeout: 'ScriptTimeout',
  /**
   * The worker stopped (a deploy, SIGTERM) while the script ran: the job runs the script again,
   * from the start, on the next worker, without spending one of its retries.
   */
  WorkerShutdown: 'WorkerShutdown',
  ResultTooLarge: 'ResultTooLarge',
  Cancelled: 'Cancelled',
  PixyzSharedDirectoryNotFound: 'PixyzSharedDirectoryNotFound',
  PixyzFileNotFound: 'PixyzFileNotFound',
  PixyzSecurityViolation: 'PixyzSecurityViolation',
  InternalError: 'InternalError',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/** Failures a second attempt cannot fix. */
export const NON_RETRYABLE_ERROR_TYPES: readonly ErrorType[] = [
  ErrorType.InvalidInput,
  ErrorType.ScriptFailed,
  ErrorType.ResultTooLarge,
  ErrorType.PixyzSharedDirectoryNotFound,
  ErrorType.PixyzFileNotFound,
  ErrorType.PixyzSecurityViolation,
];
