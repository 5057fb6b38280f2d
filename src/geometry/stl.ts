// STL, ASCII and binary. A binary file may begin with "solid" too: its size decides.
import { addMesh, createDocument, triangles, type Document } from './model';

export class ModelFormatError extends Error {
  override name = 'ModelFormatError';
}

export function isBinaryStl(buf: Buffer): boolean {
  if (buf.length < 84) return false;
  const count = buf.readUInt32LE(80);
  return buf.length === 84 + count * 50;
}

export function readStl(buf: Buffer, name: string): Document {
  const doc = createDocument();
  let positions: Float32Array;
  if (isBinaryStl(buf)) {
    const count = buf.readUInt32LE(80);
    positions = new Float32Array(count * 9);
    for (let t = 0; t < count; t++) {
      const base = 84 + t * 50 + 12; // skip the facet normal
      for (let k = 0; k < 9; k++) positions[t * 9 + k] = buf.readFloatLE(base + k * 4);
    }
  } else {
    const text = buf.toString('latin1');
    if (!/^\s*solid/.test(text)) throw new ModelFormatError(`'${name}' is neither an ASCII STL (no 'solid') nor a binary STL (its size does not match its triangle count)`);
    const values: number[] = [];
    for (const m of text.matchAll(/vertex\s+(\S+)\s+(\S+)\s+(\S+)/g)) values.push(Number(m[1]), Number(m[2]), Number(m[3]));
    if (values.some((v) => !Number.isFinite(v))) throw new ModelFormatError(`'${name}' has a vertex that is not a number`);
    if (values.length % 9 !== 0) throw new ModelFormatError(`'${name}' has a facet without three vertices`);
    positions = Float32Array.from(values);
  }
  // STL repeats each corner in every triangle: weld identical positions into shared vertices.
  const index = new Map<string, number>();
  const welded: number[] = [];
  const indices = new Uint32Array(positions.length / 3);
  for (let i = 0; i < indices.length; i++) {
    const key = `${positions[i * 3]},${positions[i * 3 + 1]},${positions[i * 3 + 2]}`;
    let at = index.get(key);
    if (at === undefined) {
      at = welded.length / 3;
      index.set(key, at);
      welded.push(positions[i * 3]!, positions[i * 3 + 1]!, positions[i * 3 + 2]!);
    }
    indices[i] = at;
  }
  addMesh(doc, { name: name.replace(/\.[^.]+$/, ''), positions: Float32Array.from(welded), indices });
  return doc;
}

/** Binary STL of every triangle, in world space (STL has one space, no hierarchy). */
export function writeStl(doc: Document): Buffer {
  const tris = [...triangles(doc)];
  const out = Buffer.alloc(84 + tris.length * 50);
  out.write('binary STL written by pixyz-scheduler', 0, 'ascii');
  out.writeUInt32LE(tris.length, 80);
  tris.forEach((t, i) => {
    const base = 84 + i * 50;
    const u = [t.b[0] - t.a[0], t.b[1] - t.a[1], t.b[2] - t.a[2]];
    const v = [t.c[0] - t.a[0], t.c[1] - t.a[1], t.c[2] - t.a[2]];
    const n = [u[1]! * v[2]! - u[2]! * v[1]!, u[2]! * v[0]! - u[0]! * v[2]!, u[0]! * v[1]! - u[1]! * v[0]!];
    const len = Math.hypot(n[0]!, n[1]!, n[2]!) || 1;
    [n[0]! / len, n[1]! / len, n[2]! / len, ...t.a, ...t.b, ...t.c].forEach((x, k) => out.writeFloatLE(x, base + k * 4));
  });
  return out;
}
