// Wavefront OBJ (+ MTL): objects/groups become nodes, `usemtl` blocks become primitives with
// their material (diffuse colour, opacity, and the diffuse texture `map_Kd` with the `vt`
// coordinates); faces are triangulated as fans.
import path from 'node:path';
import type { Texture } from '@gltf-transform/core';
import { applyMatrix, colorMaterial, createDocument, eachPrimitive, type Document, type Material, type Node } from './model';
import { isInside } from '../shared/share';
import { ModelFormatError } from './stl';

export interface MtlMaterial {
  /** Diffuse colour `Kd` and opacity `d`. */
  color: [number, number, number, number];
  /** The diffuse texture's file (`map_Kd`), as written (relative to the MTL file). */
  map?: string;
}

/** Materials by name, from an MTL file's text. */
export function readMtl(text: string): Map<string, MtlMaterial> {
  const materials = new Map<string, MtlMaterial>();
  let current: MtlMaterial | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const [key, ...rest] = raw.trim().split(/\s+/);
    if (key === 'newmtl') {
      current = { color: [0.8, 0.8, 0.8, 1] };
      materials.set(rest.join(' '), current);
    } else if (current && key === 'Kd' && rest.length >= 3) {
      current.color = [Number(rest[0]), Number(rest[1]), Number(rest[2]), current.color[3]];
    } else if (current && key === 'd' && rest.length >= 1) {
      current.color[3] = Number(rest[0]);
    } else if (current && key === 'map_Kd' && rest.length >= 1) {
      current.map = textureFileName(rest);
    }
  }
  return materials;
}

/** The file of a texture statement's arguments: options (`-s 1 1 1`, `-clamp on`) first, then the name, which may hold spaces. */
function textureFileName(args: string[]): string | undefined {
  let i = 0;
  while (i < args.length && args[i]!.startsWith('-')) {
    i++; // the option, then its values: numbers, or on/off
    while (i < args.length - 1 && /^(-?[\d.]+(e-?\d+)?|on|off)$/i.test(args[i]!)) i++;
  }
  return args.slice(i).join(' ') || undefined;
}

/** What readObj asks for beyond the OBJ text: files beside it, by the name the file uses. */
export interface ObjFiles {
  /** The text of a material library (`mtllib`), null when it is not there: its materials are then grey. */
  mtl?(file: string): string | null;
  /** The bytes of a texture (`map_Kd`), null when it is not there: the material keeps its colour. */
  image?(file: string): Uint8Array | null;
}

const IMAGE_TYPES: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp' };

interface Group {
  name: string;
  material: string | null;
  positions: number[];
  uvs: number[];
  normals: number[];
  /** Corners without a `vn`: the group gets no NORMAL attribute (viewers compute flat ones). */
  missingNormals: number;
  indices: number[];
  /** Corners already added, by "vertex/texcoord". */
  seen: Map<string, number>;
}

/**
 * The files of an `mtllib` statement: several, separated by spaces (the specification's form),
 * unless the whole line names one `.mtl` file whose name holds spaces.
 */
function mtlLibraries(args: string[]): string[] {
  const whole = args.join(' ');
  const parts = args.filter((a) => /\.mtl$/i.test(a));
  return parts.length > 1 && parts.length === args.length ? parts : [whole];
}

/** Parses OBJ text; `files` gives the material libraries and textures it names. */
export function readObj(text: string, name: string, files: ObjFiles = {}): Document {
  const { mtl = () => null, image = () => null } = files;
  const doc = createDocument();
  const vertices: number[] = [];
  const texcoords: number[] = [];
  const normals: number[] = [];
  const library = new Map<string, MtlMaterial>();
  const groups: Group[] = [];
  let objectName = name.replace(/\.[^.]+$/, '');
  let material: string | null = null;
  let group: Group | null = null;
  const currentGroup = (): Group => {
    if (!group || group.name !== objectName || group.material !== material) {
      group = { name: objectName, material, positions: [], uvs: [], normals: [], missingNormals: 0, indices: [], seen: new Map() };
      groups.push(group);
    }
    return group;
  };
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, lineNo) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const [key, ...rest] = line.split(/\s+/);
    switch (key) {
      case 'v': {
        const xyz = rest.slice(0, 3).map(Number);
        if (xyz.length < 3 || xyz.some((x) => !Number.isFinite(x))) throw new ModelFormatError(`'${name}' line ${lineNo + 1}: a vertex needs three numbers`);
        vertices.push(...xyz);
        break;
      }
      case 'vn': {
        const n = rest.slice(0, 3).map(Number);
        if (n.length < 3 || n.some((x) => !Number.isFinite(x))) throw new ModelFormatError(`'${name}' line ${lineNo + 1}: a normal needs three numbers`);
        const length = Math.hypot(n[0]!, n[1]!, n[2]!);
        // glTF wants unit normals; a zero one points along +z rather than nowhere.
        normals.push(...(length > 0 ? n.map((x) => x / length) : [0, 0, 1]));
        break;
      }
      case 'vt': {
        const uv = rest.slice(0, 2).map(Number);
        if (uv.length < 1 || uv.some((x) => !Number.isFinite(x))) throw new ModelFormatError(`'${name}' line ${lineNo + 1}: a texture coordinate needs numbers`);
        texcoords.push(uv[0]!, uv[1] ?? 0);
        break;
      }
      case 'o':
      case 'g':
        objectName = rest.join(' ') || objectName;
        break;
      case 'usemtl':
        material = rest.join(' ') || null;
        break;
      case 'mtllib':
        for (const file of mtlLibraries(rest)) {
          const lib = mtl(file);
          if (lib !== null) for (const [k, v] of readMtl(lib)) library.set(k, v);
        }
        break;
      case 'f': {
        const g = currentGroup();
        const count = vertices.length / 3;
        const uvCount = texcoords.length / 2;
        const normalCount = normals.length / 3;
        const resolve = (token: string | undefined, n: number, what: string): number | null => {
          if (token === undefined || token === '') return null;
          let i = Number.parseInt(token, 10);
          if (i < 0) i = n + i + 1;
          if (!Number.isInteger(i) || i < 1 || i > n) throw new ModelFormatError(`'${name}' line ${lineNo + 1}: face refers to ${what} ${token}, which does not exist`);
          return i;
        };
        const corner = (token: string): number => {
          const [vToken, tToken, nToken] = token.split('/');
          const v = resolve(vToken, count, 'vertex')!;
          const t = resolve(tToken, uvCount, 'texture coordinate');
          const n = resolve(nToken, normalCount, 'normal');
          const key = `${v}/${t ?? ''}/${n ?? ''}`;
          const known = g.seen.get(key);
          if (known !== undefined) return known;
          const next = g.positions.length / 3;
          g.positions.push(vertices[(v - 1) * 3]!, vertices[(v - 1) * 3 + 1]!, vertices[(v - 1) * 3 + 2]!);
          // glTF's texture origin is the top left corner, OBJ's the bottom left.
          g.uvs.push(t === null ? 0 : texcoords[(t - 1) * 2]!, t === null ? 0 : 1 - texcoords[(t - 1) * 2 + 1]!);
          if (n === null) g.missingNormals++;
          g.normals.push(...(n === null ? [0, 0, 1] : normals.slice((n - 1) * 3, n * 3)));
          g.seen.set(key, next);
          return next;
        };
        const face = rest.map(corner);
        for (let k = 1; k + 1 < face.length; k++) g.indices.push(face[0]!, face[k]!, face[k + 1]!);
        break;
      }
      default:
        break; // s, l, p…: not used
    }
  });
  const materials = new Map<string, Material>();
  const textures = new Map<string, Texture | null>();
  const textureOf = (file: string): Texture | null => {
    if (!textures.has(file)) {
      const data = image(file);
      const mimeType = IMAGE_TYPES[path.extname(file).toLowerCase()];
      textures.set(file, data && mimeType ? doc.createTexture(path.basename(file)).setImage(data).setMimeType(mimeType).setURI(path.basename(file)) : null);
    }
    return textures.get(file)!;
  };
  const materialOf = (mName: string): Material => {
    let mat = materials.get(mName);
    if (!mat) {
      const def = library.get(mName);
      mat = colorMaterial(doc, mName, def?.color ?? [0.8, 0.8, 0.8, 1]);
      const texture = def?.map ? textureOf(def.map) : null;
      if (texture) mat.setBaseColorTexture(texture);
      if ((def?.color[3] ?? 1) < 1) mat.setAlphaMode('BLEND');
      materials.set(mName, mat);
    }
    return mat;
  };
  const byName = new Map<string, Node>();
  const buffer = doc.getRoot().listBuffers()[0]!;
  for (const g of groups) {
    if (g.indices.length === 0) continue;
    const mat = g.material ? materialOf(g.material) : null;
    const prim = doc
      .createPrimitive()
      .setAttribute('POSITION', doc.createAccessor().setType('VEC3').setArray(Float32Array.from(g.positions)).setBuffer(buffer))
      .setIndices(doc.createAccessor().setType('SCALAR').setArray(Uint32Array.from(g.indices)).setBuffer(buffer));
    if (g.missingNormals === 0) prim.setAttribute('NORMAL', doc.createAccessor().setType('VEC3').setArray(Float32Array.from(g.normals)).setBuffer(buffer));
    if (mat?.getBaseColorTexture()) prim.setAttribute('TEXCOORD_0', doc.createAccessor().setType('VEC2').setArray(Float32Array.from(g.uvs)).setBuffer(buffer));
    if (mat) prim.setMaterial(mat);
    const existing = byName.get(g.name);
    if (existing) {
      existing.getMesh()!.addPrimitive(prim); // another material of the same object
    } else {
      const node = doc.createNode(g.name).setMesh(doc.createMesh(g.name).addPrimitive(prim));
      doc.getRoot().getDefaultScene()!.addChild(node);
      byName.set(g.name, node);
    }
  }
  return doc;
}

/** The inverse transpose of a column-major 4×4 matrix's upper 3×3 (column-major): what turns normals. */
function normalMatrix(m: number[]): number[] {
  const [a, b, c, d, e, f, g, h, i] = [m[0]!, m[1]!, m[2]!, m[4]!, m[5]!, m[6]!, m[8]!, m[9]!, m[10]!];
  // columns (a b c), (d e f), (g h i); the cofactor matrix is the inverse transpose times the determinant
  const cof = [e * i - f * h, f * g - d * i, d * h - e * g, c * h - b * i, a * i - c * g, b * g - a * h, b * f - c * e, c * d - a * f, a * e - b * d];
  const det = a * cof[0]! + b * cof[1]! + c * cof[2]!;
  return det < 0 ? cof.map((x) => -x) : cof; // a mirrored node keeps normals pointing out
}

/** A number as OBJ text: 9 significant digits; a rounding residue (below 1e-12) is 0. */
const fmt = (x: number) => {
  const y = Math.abs(x) < 1e-12 ? 0 : x;
  return Number.isInteger(y) ? String(y) : y.toPrecision(9).replace(/\.?0+$/, '');
};
const IMAGE_EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' };

/**
 * OBJ text of the scene in world space (one `o` per node, shared vertices kept), its MTL, and
 * the textures it refers to (`images`, to write beside them: file name → bytes).
 */
export function writeObj(doc: Document, mtlName: string): { obj: string; mtl: string; images: Map<string, Uint8Array> } {
  const obj: string[] = ['# written by pixyz-scheduler', `mtllib ${mtlName}`];
  const mtl: string[] = ['# written by pixyz-scheduler'];
  const images = new Map<string, Uint8Array>();
  const imageNames = new Map<Texture, string>();
  const materialNames = new Map<Material, string>();
  const usedNames = new Set<string>();
  const stem = mtlName.replace(/\.mtl$/, '');
  let base = 0;
  let uvBase = 0;
  let normalBase = 0;
  let currentNode: unknown = null;
  eachPrimitive(doc, (node, prim, world) => {
    if (node !== currentNode) {
      currentNode = node;
      obj.push(`o ${node.getName() || `node${base}`}`);
    }
    const material = prim.getMaterial();
    const texture = material?.getBaseColorTexture() ?? null;
    if (material) {
      let mName = materialNames.get(material);
      if (!mName) {
        const wanted = (material.getName() || `material${materialNames.size}`).replace(/\s+/g, '_');
        mName = wanted;
        for (let n = 2; usedNames.has(mName); n++) mName = `${wanted}_${n}`; // two materials, one name: both kept
        usedNames.add(mName);
        materialNames.set(material, mName);
        const [r, g, b, a] = material.getBaseColorFactor();
        mtl.push(`newmtl ${mName}`, `Kd ${fmt(r)} ${fmt(g)} ${fmt(b)}`, `d ${fmt(a)}`);
        const ext = texture ? IMAGE_EXTENSIONS[texture.getMimeType()] : undefined;
        if (texture && ext && texture.getImage()) {
          let file = imageNames.get(texture);
          if (!file) {
            file = `${stem}_texture${imageNames.size}.${ext}`;
            imageNames.set(texture, file);
            images.set(file, texture.getImage()!);
          }
          mtl.push(`map_Kd ${file}`);
        }
      }
      obj.push(`usemtl ${mName}`);
    }
    const pos = prim.getAttribute('POSITION')!;
    const p = [0, 0, 0];
    for (let i = 0; i < pos.getCount(); i++) {
      const w = applyMatrix(world, pos.getElement(i, p));
      obj.push(`v ${fmt(w[0])} ${fmt(w[1])} ${fmt(w[2])}`);
    }
    const uv = texture ? prim.getAttribute(`TEXCOORD_${material!.getBaseColorTextureInfo()?.getTexCoord() ?? 0}`) : null;
    if (uv) {
      const t = [0, 0];
      for (let i = 0; i < uv.getCount(); i++) {
        uv.getElement(i, t);
        obj.push(`vt ${fmt(t[0]!)} ${fmt(1 - t[1]!)}`);
      }
    }
    const idx = prim.getIndices();
    const count = idx ? idx.getCount() : pos.getCount();
    const normal = prim.getAttribute('NORMAL');
    if (normal) {
      const m = normalMatrix(world);
      const n = [0, 0, 0];
      for (let i = 0; i < normal.getCount(); i++) {
        normal.getElement(i, n);
        const w = [m[0]! * n[0]! + m[3]! * n[1]! + m[6]! * n[2]!, m[1]! * n[0]! + m[4]! * n[1]! + m[7]! * n[2]!, m[2]! * n[0]! + m[5]! * n[1]! + m[8]! * n[2]!];
        const length = Math.hypot(w[0]!, w[1]!, w[2]!) || 1;
        obj.push(`vn ${fmt(w[0]! / length)} ${fmt(w[1]! / length)} ${fmt(w[2]! / length)}`);
      }
    }
    const at = (i: number) => {
      const k = idx ? idx.getScalar(i) : i;
      const v = String(base + 1 + k);
      const t = uv ? String(uvBase + 1 + k) : '';
      return normal ? `${v}/${t}/${normalBase + 1 + k}` : uv ? `${v}/${t}` : v;
    };
    for (let i = 0; i + 2 < count; i += 3) obj.push(`f ${at(i)} ${at(i + 1)} ${at(i + 2)}`);
    base += pos.getCount();
    if (uv) uvBase += uv.getCount();
    if (normal) normalBase += normal.getCount();
  });
  return { obj: `${obj.join('\n')}\n`, mtl: `${mtl.join('\n')}\n`, images };
}

/**
 * Reads an OBJ file with the material libraries and textures it names, when they are in its
 * directory (a file outside it is not read). A missing one is reported on stderr (the job's log):
 * its material is then grey, or keeps its colour without the texture.
 */
export async function readObjFile(file: string): Promise<Document> {
  const fsp = await import('node:fs/promises');
  const dir = path.dirname(path.resolve(file));
  const name = path.basename(file);
  const inside = (base: string, ref: string): string | null => {
    const target = path.resolve(base, ref.replace(/\\/g, '/'));
    return target !== dir && isInside(dir, target) ? target : null;
  };
  const readInside = async <T>(base: string, ref: string, read: (p: string) => Promise<T>): Promise<T | null> => {
    const target = inside(base, ref);
    const data = target ? await read(target).catch(() => null) : null;
    if (data === null) console.warn(`'${name}': '${ref}' ${target ? 'is missing (not found in the model’s folder)' : 'lies outside the model’s folder'}; it is left out`);
    return data;
  };
  const text = await fsp.readFile(file, 'utf8');
  const mtls = new Map<string, string | null>();
  const images = new Map<string, Uint8Array | null>();
  const libs = [...text.matchAll(/^\s*mtllib\s+(.+?)\s*$/gm)].flatMap((m) => mtlLibraries(m[1]!.split(/\s+/)));
  for (const lib of libs) {
    if (mtls.has(lib)) continue;
    const mtlText = await readInside(dir, lib, (p) => fsp.readFile(p, 'utf8'));
    mtls.set(lib, mtlText);
    if (mtlText === null) continue;
    const mtlDir = path.dirname(inside(dir, lib)!);
    for (const material of readMtl(mtlText).values()) {
      // A texture's name is relative to its MTL file; readObj asks for it by that name.
      if (material.map && !images.has(material.map)) images.set(material.map, await readInside(mtlDir, material.map, (p) => fsp.readFile(p)));
    }
  }
  return readObj(text, name, { mtl: (lib) => mtls.get(lib) ?? null, image: (f) => images.get(f) ?? null });
}
