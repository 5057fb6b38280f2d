// The dashboard at /ui: src/ui/ built by esbuild (a dependency of the scheduler already) in memory
// at its first visit, and served with the rest of the API — no separate build step, no CDN.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import * as esbuild from 'esbuild';
import express from 'express';
import { REPO_ROOT } from '../shared/config';

const UI_DIR = path.join(REPO_ROOT, 'src', 'ui');

export interface UiFile {
  body: Uint8Array;
  /** The same, gzipped once at build time (a browser gets this one: the 3D viewer's chunk shrinks about 4×). */
  gzip: Uint8Array;
  type: string;
}

export interface UiBundle {
  /** Output files by their path under /ui/. */
  files: Map<string, UiFile>;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.html': 'text/html; charset=utf-8' };

/** Builds the dashboard: app.ts and its chunks (the 3D viewer is one), minified. */
export async function buildUi(): Promise<UiBundle> {
  const result = await esbuild.build({
    entryPoints: [path.join(UI_DIR, 'app.ts'), path.join(UI_DIR, 'app.css')],
    bundle: true,
    splitting: true,
    format: 'esm',
    minify: true,
    write: false,
    outdir: '/ui',
    target: ['es2022'],
    logLevel: 'silent',
    chunkNames: 'chunks/[name]-[hash]',
  });
  const files = new Map<string, UiFile>();
  const add = (rel: string, body: Uint8Array) => files.set(rel, { body, gzip: zlib.gzipSync(body, { level: 9 }), type: TYPES[path.extname(rel)] ?? 'application/octet-stream' });
  for (const out of result.outputFiles) add(path.relative('/ui', out.path).split(path.sep).join('/'), out.contents);
  add('index.html', fs.readFileSync(path.join(UI_DIR, 'index.html')));
  return { files };
}

/**
 * The /ui routes. The bundle is built at the first visit (~0.5 s, once), not at every API start:
 * an API nobody opens the dashboard of never runs esbuild. A failed build is tried again.
 */
export function uiRouter(extra: { temporalUiUrl: string | null; namespace: string }): express.Router {
  let building: Promise<UiBundle> | null = null;
  const bundle = () =>
    (building ??= buildUi().catch((err: Error) => {
      building = null;
      throw err;
    }));
  const router = express.Router();
  // The page at /ui (this API has no trailing slashes); its assets under /ui/.
  router.get('/ui', async (req, res) => {
    const { files } = await bundle();
    res.set('Cache-Control', 'no-cache');
    sendFile(req, res, files.get('index.html')!);
  });
  router.get('/ui/config.json', (_req, res) => {
    res.json({ temporalUiUrl: extra.temporalUiUrl, namespace: extra.namespace });
  });
  router.get('/ui/*path', async (req, res) => {
    const rel = (req.params as unknown as { path: string[] }).path.join('/');
    const { files } = await bundle();
    const file = files.get(rel);
    if (!file) {
      res.status(404).json({ detail: 'Not Found' });
      return;
    }
    // Chunk names carry their hash: cached for good; the page and its entry points are checked.
    res.set('Cache-Control', rel.startsWith('chunks/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    sendFile(req, res, file);
  });
  return router;
}

/** A file of the bundle, gzipped for a client that takes it. */
function sendFile(req: express.Request, res: express.Response, file: UiFile): void {
  res.type(file.type).vary('Accept-Encoding');
  if (req.acceptsEncodings('gzip', 'identity') === 'gzip') res.set('Content-Encoding', 'gzip').send(Buffer.from(file.gzip));
  else res.send(Buffer.from(file.body));
}
