import type { ErrorRequestHandler } from 'express';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  413: 'Payload Too Large',
  425: 'Too early',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
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

export function errorHandler(log: { error: (obj: object, msg: string) => void }): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof HttpError) {
      // Upstream's 503 carries a plain string detail.
      if (err.status === 503) res.status(503).json({ detail: err.details });
      else res.status(err.status).json(errorBody(err.status, err.details));
      return;
    }
    // body-parser style errors carry a status (e.g. malformed JSON on /dev/callback later).
    const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) log.error({ err }, 'unhandled API error');
    if (status === 500) res.status(500).type('text/plain').send('Internal Server Error');
    else res.status(status).json(errorBody(status, String(err.message)));
  };
}
