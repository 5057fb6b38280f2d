// Wavefront OBJ (+ MTL base colours): objects/groups become nodes, `usemtl` blocks become
// primitives with their material; faces are triangulated as fans.
import { addMesh, applyMatrix, colorMaterial, createDocument, eachPrimitive, type Document, type Material } from './model';
import { ModelFormatError } from './stl';

/** Diffuse colours (`Kd`) by material name, from an MTL file's text. */
export function readMtl(text: string): Map<string, [number, number, number, number]> {
  const colors = new Map<string, [number, number, number, number]>();
  let current: string | null = null;
  let alpha = 1;
  for (const raw of text.split(/\r?\n/)) {
    const [key, ...rest] = raw.trim().split(/\s+/);
    if (key === 'newmtl') {
      current = rest.join(' ');
      alpha = 1;
      colors.set(current, [0.8, 0.8, 0.8, 1]);
    } else if (current && key === 'Kd' && rest.length >= 3) {
      colors.set(current, [Number(rest[0]), Number(rest[1]), Number(rest[2]), alpha]);
    } else if (current && key === 'd' && rest.length >= 1) {
      alpha = Number(rest[0]);
      const c = colors.get(current)!;
      colors.set(current, [c[0], c[1], c[2], alpha]);
    }
  }
  return colors;
}

interface Group {
  name: string;
  material: string | null;
  positions: number[];
  indices: number[];
  seen: Map<number, number>;
}

/**
 * Parses OBJ text. `mtl` gives the text of a material library by the name `mtllib` uses (null
 * when it is not there: its materials are then grey).
 */
export function readObj(text: string, name: string, mtl: (file: string) => string | null = () => null): Document {
  const doc = createDocument();
  const vertices: number[] = [];
  const colors = new Map<string, [number, number, number, number]>();
  const groups: Group[] = [];
  let objectName = name.replace(/\.[^.]+$/, '');
  let material: string | null = null;
  let group: Group | null = null;
  const currentGroup = (): Group => {
    if (!group || group.name !== objectName || group.material !== material) {
      group = { name: objectName, material, positions: [], indices: [], seen: new Map() };
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
      case 'o':
      case 'g':
        objectName = rest.join(' ') || objectName;
        break;
      case 'usemtl':
        material = rest.join(' ') || null;
        break;
      case 'mtllib': {
        const lib = mtl(rest.join(' '));
        if (lib !== null) for (const [k, v] of readMtl(lib)) colors.set(k, v);
        break;
      }
      case 'f': {
        const g = currentGroup();
        const count = vertices.length / 3;
        const corner = (token: string): number => {
          let i = Number.parseInt(token.split('/')[0]!, 10);
          if (i < 0) i = count + i + 1;
          if (!Number.isInteger(i) || i < 1 || i > count) throw new ModelFormatError(`'${name}' line ${lineNo + 1}: face refers to vertex ${token}, which does not exist`);
          const known = g.seen.get(i);
          if (known !== undefined) return known;
          const next = g.positions.length / 3;
          g.positions.push(vertices[(i - 1) * 3]!, vertices[(i - 1) * 3 + 1]!, vertices[(i - 1) * 3 + 2]!);
          g.seen.set(i, next);
          return next;
        };
        const face = rest.map(corner);
        for (let k = 1; k + 1 < face.length; k++) g.indices.push(face[0]!, face[k]!, face[k + 1]!);
        break;
      }
      default:
        break; // vt, vn, s, l, p…: not used
    }
  });
  const materials = new Map<string, Material>();
  const byName = new Map<string, ReturnType<typeof addMesh>>();
  for (const g of groups) {
    if (g.indices.length === 0) continue;
    let mat: Material | null = null;
    if (g.material) {
      mat = materials.get(g.material) ?? colorMaterial(doc, g.material, colors.get(g.material) ?? [0.8, 0.8, 0.8, 1]);
      materials.set(g.material, mat);
    }
    const existing = byName.get(g.name);
    if (existing) {
      // Another material of the same object: another primitive of its mesh.
      const buffer = doc.getRoot().listBuffers()[0]!;
      const prim = doc
        .createPrimitive()
        .setAttribute('POSITION', doc.createAccessor().setType('VEC3').setArray(Float32Array.from(g.positions)).setBuffer(buffer))
        .setIndices(doc.createAccessor().setType('SCALAR').setArray(Uint32Array.from(g.indices)).setBuffer(buffer));
      if (mat) prim.setMaterial(mat);
      existing.getMesh()!.addPrimitive(prim);
    } else {
      byName.set(g.name, addMesh(doc, { name: g.name, positions: Float32Array.from(g.positions), indices: Uint32Array.from(g.indices), material: mat }));
    }
  }
  return doc;
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(9).replace(/\.?0+$/, ''));

/** OBJ text of the scene in world space (one `o` per node, shared vertices kept) and its MTL. */
export function writeObj(doc: Document, mtlName: string): { obj: string; mtl: string } {
  const obj: string[] = ['# written by pixyz-scheduler', `mtllib ${mtlName}`];
  const mtl: string[] = ['# written by pixyz-scheduler'];
  const materialNames = new Map<Material, string>();
  let base = 0;
  let currentNode: unknown = null;
  eachPrimitive(doc, (node, prim, world) => {
    if (node !== currentNode) {
      currentNode = node;
      obj.push(`o ${node.getName() || `node${base}`}`);
    }
    const material = prim.getMaterial();
    if (material) {
      let mName = materialNames.get(material);
      if (!mName) {
        mName = material.getName() || `material${materialNames.size}`;
        materialNames.set(material, mName);
        const [r, g, b, a] = material.getBaseColorFactor();
        mtl.push(`newmtl ${mName}`, `Kd ${fmt(r)} ${fmt(g)} ${fmt(b)}`, `d ${fmt(a)}`);
      }
      obj.push(`usemtl ${mName}`);
    }
    const pos = prim.getAttribute('POSITION')!;
    const p = [0, 0, 0];
    for (let i = 0; i < pos.getCount(); i++) {
      const w = applyMatrix(world, pos.getElement(i, p));
      obj.push(`v ${fmt(w[0])} ${fmt(w[1])} ${fmt(w[2])}`);
    }
    const idx = prim.getIndices();
    const count = idx ? idx.getCount() : pos.getCount();
    const at = (i: number) => base + 1 + (idx ? idx.getScalar(i) : i);
    for (let i = 0; i + 2 < count; i += 3) obj.push(`f ${at(i)} ${at(i + 1)} ${at(i + 2)}`);
    base += pos.getCount();
  });
  return { obj: `${obj.join('\n')}\n`, mtl: `${mtl.join('\n')}\n` };
}
