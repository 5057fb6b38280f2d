// The container image's files without a container runtime: what the runtime stage of
// deploy/Dockerfile copies, laid out in a directory (node_modules linked, not copied), so that a
// test runs the roles from exactly those files — a file the image lacks fails the test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../src/shared/config';

/** The COPY instructions of the Dockerfile's last stage: [source, destination] pairs. */
export function runtimeCopies(dockerfile = path.join(REPO_ROOT, 'deploy', 'Dockerfile')): { from: string | null; sources: string[]; dest: string }[] {
  const lines = fs.readFileSync(dockerfile, 'utf8').split('\n');
  const lastFrom = lines.map((l, i) => (/^FROM\s/.test(l) ? i : -1)).filter((i) => i >= 0).pop()!;
  return lines
    .slice(lastFrom)
    .filter((l) => /^COPY\s/.test(l))
    .map((l) => {
      const words = l.trim().split(/\s+/).slice(1);
      const from = words[0]?.startsWith('--from=') ? words.shift()!.slice('--from='.length) : null;
      const dest = words.pop()!;
      return { from, sources: words, dest };
    });
}

/** A directory holding what the image's /app holds; the caller removes it. */
export function imageLayout(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-image-'));
  for (const { from, sources, dest } of runtimeCopies()) {
    if (from !== null) {
      // The dependency stage's node_modules: this checkout's (dev packages too; the image has fewer).
      if (sources.join(' ') !== '/app/node_modules') throw new Error(`unexpected COPY --from=${from} ${sources.join(' ')}`);
      fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, dest));
      continue;
    }
    for (const source of sources) {
      const target = dest.endsWith('/') ? path.join(root, dest, path.basename(source)) : path.join(root, dest);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.cpSync(path.join(REPO_ROOT, source), target, { recursive: true });
    }
  }
  return root;
}
