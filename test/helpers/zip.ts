import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import yauzl from 'yauzl';

/** Entries of a zip held in memory: name → content. Fails on a malformed zip. */
export function readZip(buf: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const out = new Map<string, Buffer>();
      zip.on('error', reject);
      zip.on('end', () => resolve(out));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) return zip.readEntry();
        zip.openReadStream(entry, (e, stream) => {
          if (e) return reject(e);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            out.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

/**
 * Writes a zip with exactly the entry names given — including hostile ones such as
 * '../evil.txt' or links, which zip libraries refuse to write — using Python's zipfile.
 */
export function craftZip(file: string, entries: { name: string; content?: string; base64?: string; symlinkTo?: string }[]): void {
  const script = `
import base64, json, sys, zipfile
entries = json.loads(sys.stdin.read())
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    for e in entries:
        info = zipfile.ZipInfo(e['name'])
        info.compress_type = zipfile.ZIP_DEFLATED
        if e.get('symlinkTo'):
            info.external_attr = (0o120777 << 16)
            z.writestr(info, e['symlinkTo'])
        else:
            info.external_attr = (0o100644 << 16)
            z.writestr(info, base64.b64decode(e['base64']) if 'base64' in e else e.get('content', ''))
`;
  const res = spawnSync('python3', ['-c', script, file], { input: JSON.stringify(entries), encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`craftZip failed: ${res.error?.message ?? res.stderr}`);
}

/** Replaces every occurrence of `marker` in a file's bytes (e.g. to plant invalid UTF-8 in a name). */
export function patchBytes(file: string, marker: string, replacement: Buffer): void {
  const data = fs.readFileSync(file);
  const needle = Buffer.from(marker);
  if (needle.length !== replacement.length) throw new Error('patchBytes keeps the length');
  let at = data.indexOf(needle);
  if (at < 0) throw new Error(`no '${marker}' in ${file}`);
  while (at >= 0) {
    replacement.copy(data, at);
    at = data.indexOf(needle, at + needle.length);
  }
  fs.writeFileSync(file, data);
}

export type TarEntry = { name: string; type?: 'file' | 'dir' | 'symlink' | 'link' | 'chr' | 'fifo'; content?: string; linkname?: string };

/** Writes a .tar.gz with exactly the entries given, hostile ones included, using Python's tarfile. */
export function craftTarGz(file: string, entries: TarEntry[]): void {
  const script = `
import io, json, sys, tarfile
entries = json.loads(sys.stdin.read())
types = {'file': tarfile.REGTYPE, 'dir': tarfile.DIRTYPE, 'symlink': tarfile.SYMTYPE, 'link': tarfile.LNKTYPE, 'chr': tarfile.CHRTYPE, 'fifo': tarfile.FIFOTYPE}
with tarfile.open(sys.argv[1], 'w:gz') as t:
    for e in entries:
        info = tarfile.TarInfo(e['name'])
        info.type = types[e.get('type', 'file')]
        info.linkname = e.get('linkname', '')
        data = e.get('content', '').encode()
        info.size = len(data) if info.type == tarfile.REGTYPE else 0
        t.addfile(info, io.BytesIO(data) if info.size else None)
`;
  const res = spawnSync('python3', ['-c', script, file], { input: JSON.stringify(entries), encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`craftTarGz failed: ${res.error?.message ?? res.stderr}`);
}
