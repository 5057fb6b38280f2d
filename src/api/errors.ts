import type { ErrorRequestHandler } from 'express';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  425: 'Too early',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  507: 'Insufficient Storage',
};

/** An API error with upstream's body: {"detail":{"code":N,"message":M,"details":D}}. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly details: string,
  ) {
    super(details);
  }
}

export const badRequest = (details: string) => new HttpError(400, details);
export const notFound = (details: string) => new HttpError(404, details);
export const tooEarly = (details: string) => new HttpError(425, details);

export function errorBody(status: number, details: string) {
  return { detail: { code: status, message: REASONS[status] ?? 'Error', details } };
}

/**
 * Whether `err` says Temporal could not be reached (gRPC UNAVAILABLE, a call out of time, no
 * connection), wherever it sits in the causes the client wrapped it in.
 */
export function temporalUnreachable(err: unknown): boolean {
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown } | null; typeof e === 'object' && e !== null; e = e.cause as typeof e) {
    if (e.code === 14 || e.code === 4) return true;
    if (/UNAVAILABLE|ECONNREFUSED|No connection established|Timeout expired|deadline exceeded|failed to connect/i.test(String(e.message))) return true;
  }
  return false;
}

/** Upstream's 503 for any route whose answer needs Temporal while it is away. */
export function unreachable(err: unknown): HttpError {
  const cause = err instanceof Error ? err.message : String(err);
  return new HttpError(503, `Service not available: Temporal is not reachable (${cause}); try again once it is back`);
}

export function errorHandler(log: { error: (obj: object, msg: string) => void }): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (!(err instanceof HttpError) && temporalUnreachable(err)) err = unreachable(err);
    if (!(err instanceof HttpError) && (err as NodeJS.ErrnoException)?.code === 'ENOSPC') {
      err = new HttpError(507, 'No space left in the share directory (SHARE_PATH) for this upload; free some (finished jobs go after JOB_RETENTION) and send it again');
    }
    if (err instanceof HttpError) {
      // Upstream's 503 carries a plain string detail.
      if (err.status === 503) res.status(503).json({ detail: err.details });
      else res.status(err.status).json(errorBody(err.status, err.details));
      return;
    }
    // body-parser style errors carry a status (e.g. malformed JSON on /dev/callback).
    const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) log.error({ err }, 'unhandled API error');
    if (status === 500) res.status(500).type('text/plain').send('Internal Server Error');
    else res.status(status).json(errorBody(status, String(err.message)));
  };
}
