import type { Request } from 'express';
import { isJobId } from '../shared/share';
import { badRequest } from './errors';

/** The job id of a route's `:id`, lowercased; a 400 for what is not a UUID. */
export function jobIdParam(req: Request): string {
  const id = String(req.params.id);
  if (!isJobId(id)) throw badRequest(`Invalid job id '${id}': expected a UUID`);
  return id.toLowerCase();
}
