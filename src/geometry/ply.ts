// PLY (Stanford), ASCII and binary: vertices and faces (fans triangulated). Other elements and
// properties are read past and not kept.
import { addMesh, applyMatrix, createDocument, eachPrimitive, type Document } from './model';
import { ModelFormatError } from './stl';

type Scalar = 'char' | 'uchar' | 'short' | 'ushort' | 'int' | 'uint' | 'float' | 'double';
const ALIASES: Record<string, Scalar> = {
  char: 'char', int8: 'char', uchar: 'uchar', uint8: 'uchar', short: 'short', int16: 'short', ushort: 'ushort', uint16: 'ushort',
  int: 'int', int32: 'int', uint: 'uint', uint32: 'uint', float: 'float', float32: 'float', double: 'double', float64: 'double',
};
const SIZE: Record<Scalar, number> = { char: 1, uchar: 1, short: 2, ushort: 2, int: 4, uint: 4, float: 4, double: 8 };

interface Property {
  name: string;
  type: Scalar;
  /** For a list property: the type of its count. */
  countType?: Scalar;
}
interface Element {
  name: string;
  count: number;
  properties: Property[];
}

function scalar(name: string, t: string | undefined): Scalar {
  const s = t ? ALIASES[t] : undefined;
  if (!s) throw new ModelFormatError(`'${name}': unknown PLY type '${t}'`);
  return s;
}

export function readPly(buf: Buffer, name: string): Document {
  const end = buf.indexOf('end_header');
  if (!buf.subarray(0, 3).equals(Buffer.from('ply')) || end < 0) throw new ModelFormatError(`'${name}' is not a PLY file (no 'ply' … 'end_header')`);
  const headerEnd = buf.indexOf('\n', end) + 1;
  const header = buf.subarray(0, headerEnd).toString('latin1').split(/\r?\n/);
  let format = '';
  const elements: Element[] = [];
  for (const line of header) {
    const t = line.trim().split(/\s+/);
    if (t[0] === 'format') format = t[1] ?? '';
    else if (t[0] === 'element') elements.push({ name: t[1]!, count: Number(t[2]), properties: [] });
    else if (t[0] === 'property') {
      const el = elements.at(-1);
      if (!el) throw new ModelFormatError(`'${name}': a property before any element`);
      if (t[1] === 'list') el.properties.push({ name: t[4]!, countType: scalar(name, t[2]), type: scalar(name, t[3]) });
      else el.properties.push({ name: t[2]!, type: scalar(name, t[1]) });
    }
  }
  if (!['ascii', 'binary_little_endian', 'binary_big_endian'].includes(format)) throw new ModelFormatError(`'${name}': unknown PLY format '${format}'`);
  const positions: number[] = [];
  const indices: number[] = [];
  let offset = headerEnd;
  const little = format === 'binary_little_endian';
  const read = (type: Scalar): number => {
    if (offset + SIZE[type] > buf.length) throw new ModelFormatError(`'${name}' ends before its data does`);
    const o = offset;
    offset += SIZE[type];
    switch (type) {
      case 'char': return buf.readInt8(o);
      case 'uchar': return buf.readUInt8(o);
      case 'short': return little ? buf.readInt16LE(o) : buf.readInt16BE(o);
      case 'ushort': return little ? buf.readUInt16LE(o) : buf.readUInt16BE(o);
      case 'int': return little ? buf.readInt32LE(o) : buf.readInt32BE(o);
      case 'uint': return little ? buf.readUInt32LE(o) : buf.readUInt32BE(o);
      case 'float': return little ? buf.readFloatLE(o) : buf.readFloatBE(o);
      case 'double': return little ? buf.readDoubleLE(o) : buf.readDoubleBE(o);
    }
  };
  const words = format === 'ascii' ? buf.subarray(headerEnd).toString('latin1').split(/\s+/).filter(Boolean) : [];
  let w = 0;
  const next = (type: Scalar): number => {
    if (format !== 'ascii') return read(type);
    if (w >= words.length) throw new ModelFormatError(`'${name}' ends before its data does`);
    return Number(words[w++]);
  };
  for (const el of elements) {
    for (let i = 0; i < el.count; i++) {
      const values: Record<string, number | number[]> = {};
      for (const p of el.properties) {
        if (p.countType) {
          const n = next(p.countType);
          const list: number[] = [];
          for (let k = 0; k < n; k++) list.push(next(p.type));
          values[p.name] = list;
        } else values[p.name] = next(p.type);
      }
      if (el.name === 'vertex') positions.push(values.x as number, values.y as number, values.z as number);
      else if (el.name === 'face') {
        const f = (values.vertex_indices ?? values.vertex_index) as number[] | undefined;
        if (!f) continue;
        for (let k = 1; k + 1 < f.length; k++) indices.push(f[0]!, f[k]!, f[k + 1]!);
      }
    }
  }
  const vertexCount = positions.length / 3;
  if (positions.some((v) => !Number.isFinite(v))) throw new ModelFormatError(`'${name}' has a vertex that is not a number`);
  if (indices.some((i) => !Number.isInteger(i) || i < 0 || i >= vertexCount)) throw new ModelFormatError(`'${name}' has a face that refers to a vertex it does not have`);
  const doc = createDocument();
  addMesh(doc, { name: name.replace(/\.[^.]+$/, ''), positions: Float32Array.from(positions), indices: Uint32Array.from(indices) });
  return doc;
}

/** Binary little-endian PLY of the scene in world space, shared vertices kept. */
export function writePly(doc: Document): Buffer {
  const positions: number[] = [];
  const faces: number[] = [];
  eachPrimitive(doc, (_node, prim, world) => {
    const base = positions.length / 3;
    const pos = prim.getAttribute('POSITION')!;
    const p = [0, 0, 0];
    for (let i = 0; i < pos.getCount(); i++) positions.push(...applyMatrix(world, pos.getElement(i, p)));
    const idx = prim.getIndices();
    const count = idx ? idx.getCount() : pos.getCount();
    for (let i = 0; i < count; i++) faces.push(base + (idx ? idx.getScalar(i) : i));
  });
  const header = Buffer.from(
    `ply\nformat binary_little_endian 1.0\ncomment written by pixyz-scheduler\nelement vertex ${positions.length / 3}\n` +
      `property float x\nproperty float y\nproperty float z\nelement face ${faces.length / 3}\nproperty list uchar uint vertex_indices\nend_header\n`,
    'latin1',
  );
  const body = Buffer.alloc(positions.length * 4 + (faces.length / 3) * 13);
  let o = 0;
  for (const v of positions) o = body.writeFloatLE(v, o);
  for (let i = 0; i < faces.length; i += 3) {
    o = body.writeUInt8(3, o);
    for (let k = 0; k < 3; k++) o = body.writeUInt32LE(faces[i + k]!, o);
  }
  return Buffer.concat([header, body]);
}
