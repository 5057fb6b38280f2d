// Exceptions a script may catch or throw, with upstream's names.

export class PixyzException extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The job has no share directory (compute-only) or it is missing. */
export class PixyzSharedDirectoryNotFound extends PixyzException {}
/** A file the job needs is not there (the root file of an archive, say). */
export class PixyzFileNotFound extends PixyzException {}
/** A path tried to leave the job's directory. */
export class PixyzSecurityViolation extends PixyzException {}
/** A context or result that cannot travel as JSON. */
export class PixyzNotSerializable extends PixyzException {}
/** A sub-task failed (or was cancelled, or did not finish in time): its own message, its id. */
export class SubTaskFailed extends PixyzException {
  constructor(
    message: string,
    /** The sub-task's error type (e.g. ScriptFailed, ScriptTimeout, Cancelled, TimeoutError). */
    readonly type: string,
    readonly childId: string | null,
  ) {
    super(message);
  }
}
