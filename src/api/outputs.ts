// A job's outputs: the list with sizes, one file (Range and conditional requests), the zip. Only
// what lies inside the job's own outputs/ is served, whatever links a script left there.
import fs, { type Dirent } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import express, { type RequestHandler, type Response } from 'express';
import { isFinished } from '../shared/job-status';
import { EMPTY_ZIP, isInside, isPartialFile, jobPaths } from '../shared/share';
import { badRequest, notFound, tooEarly } from './errors';
import { jobIdParam } from './job-id';
import { JobNotFoundError, readJobState, type JobSource } from './job-state';

/** Upstream's header, `attachment; filename="<name>"`, plus RFC 5987 for names beyond ASCII. */
function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const header = `attachment; filename="${ascii}"`;
  return ascii === name ? header : `${header}; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** Streams a file with Content-Length, Range and conditional requests (express's sendFile). */
function sendFile(res: Response, file: string, downloadName: string): Promise<void> {
  return new Promise((resolve, reject) => {
    res.setHeader('Content-Disposition', contentDisposition(downloadName));
    res.setHeader('Content-Type', 'application/octet-stream');
    res.sendFile(file, { dotfiles: 'allow' }, (err) => (err && !res.headersSent ? reject(err) : resolve()));
  });
}

/**
 * The real path of a job's outputs/, or null when it is missing — or is not where it should be
 * (a script that replaced it with a link to elsewhere must not have that served).
 */
async function outputsRoot(sharePath: string, id: string): Promise<string | null> {
  const { dir, outputs } = jobPaths(sharePath, id);
  const [realDir, realOutputs] = await Promise.all([fsp.realpath(dir).catch(() => null), fsp.realpath(outputs).catch(() => null)]);
  if (!realDir || !realOutputs || realOutputs !== path.join(realDir, 'outputs')) return null;
  return realOutputs;
}

/** GET /jobs/{id}/outputs, /jobs/{id}/outputs/archive and /jobs/{id}/outputs/{path}, behind `auth`. */
export function outputsRouter({ sharePath, jobs, auth }: { sharePath: string; jobs: JobSource; auth: RequestHandler }): express.Router {
  const router = express.Router({ strict: true });
  router.get('/jobs/:id/outputs', auth, async (req, res) => {
    const id = jobIdParam(req);
    const outputs = await outputsRoot(sharePath, id);
    const entries = outputs ? await fsp.readdir(outputs, { withFileTypes: true }).catch(() => [] as Dirent[]) : [];
    const shown = entries.filter((e) => !isPartialFile(e.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // Beyond upstream: each entry's size (a folder's: null), for the dashboard and the CLI.
    const files = await Promise.all(
      shown.map(async (e) => ({ name: e.name, bytes: e.isFile() ? await fsp.stat(path.join(outputs!, e.name)).then((st) => st.size, () => null) : null })),
    );
    res.json({ outputs: shown.map((e) => e.name), files });
  });

  router.get('/jobs/:id/outputs/archive', auth, async (req, res) => {
    const id = jobIdParam(req);
    const paths = jobPaths(sharePath, id);
    if (!fs.existsSync(paths.archive)) {
      // Whether the job exists is Temporal's to say: a queued job may have no directory yet.
      let state;
      try {
        state = await readJobState(jobs, id);
      } catch (err) {
        if (err instanceof JobNotFoundError) throw notFound(`SharePathNotFoundError: Job '${id}' does not exist`);
        throw err;
      }
      if (!isFinished(state.status)) {
        throw tooEarly(`TaskNotCompletedError: Job '${id}' is not finished yet`);
      }
      // A job that wrote no outputs has no archive file (nothing was zipped): its archive is empty.
      const outputs = state.status === 'SUCCESS' ? await outputsRoot(sharePath, id) : null;
      if (outputs && (await fsp.readdir(outputs).catch(() => ['?'])).every(isPartialFile)) {
        res.setHeader('Content-Disposition', contentDisposition(`${id}.zip`));
        res.setHeader('Content-Type', 'application/octet-stream');
        res.send(EMPTY_ZIP);
        return;
      }
      throw notFound(`SharePathNotFoundError: Job '${id}' has no archive (it was cancelled or compute-only)`);
    }
    await sendFile(res, paths.archive, `${id}.zip`);
  });

  router.get('/jobs/:id/outputs/*file_path', auth, async (req, res) => {
    const id = jobIdParam(req);
    const segments = (req.params as unknown as { file_path: string[] }).file_path;
    const shown = `outputs/${segments.join('/')}`;
    const root = await outputsRoot(sharePath, id);
    if (!root) throw notFound(`SharePathNotFoundError: File '${shown}' not found`);
    const requested = path.resolve(root, ...segments);
    if (!isInside(root, requested)) throw badRequest(`SharePathInvalidError: Invalid file path '${shown}'`);
    const real = await fsp.realpath(requested).catch(() => null);
    if (!real || !(await fsp.stat(real)).isFile()) throw notFound(`SharePathNotFoundError: File '${shown}' not found`);
    // A link inside outputs/ must not serve a file from elsewhere.
    if (!isInside(root, real)) throw badRequest(`SharePathInvalidError: Invalid file path '${shown}'`);
    await sendFile(res, real, path.basename(real));
  });
  return router;
}
