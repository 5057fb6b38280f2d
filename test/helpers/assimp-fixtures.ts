// Fixture models for the formats read through assimp, written in code: a two-part model like
// models.ts's assembly() — a red unit cube 'body' at the origin and a blue half cube 'wheel'
// under a 'group' moved by (2, 1, 0.5), off every axis so that a rotated axis shows in the
// bounding box — as OFF, Collada, 3MF, 3DS and FBX (ASCII and binary).
import { spawnSync } from 'node:child_process';
import { PNG } from 'pngjs';
import { cube } from './models';

/** Where the group, and the wheel in it, is. */
export const GROUP_OFFSET = [2, 1, 0.5];
/** What the two-part model holds, in any format that keeps it whole. */
export const ASSEMBLY_FACTS = { triangles: 24, bbox: { min: [-0.5, -0.5, -0.5], max: [2.25, 1.25, 0.75] } };

const body = cube();
const wheel = cube([0, 0, 0], 0.5);

/** A cube's six quads, from the triangle pairs (a b c, a c d) that cube() makes of them. */
function quads(indices: Uint32Array): number[][] {
  const out: number[][] = [];
  for (let q = 0; q < indices.length / 6; q++) {
    const [a, b, c, , , d] = indices.subarray(q * 6, q * 6 + 6);
    out.push([a!, b!, c!, d!]);
  }
  return out;
}

const nums = (a: ArrayLike<number>) => Array.from(a).join(' ');

// ---------- OFF ----------

/** The unit cube as OFF, six quads (assimp triangulates them). */
export function offCube(): string {
  const p = body.positions;
  const lines = ['OFF', `8 6 12`];
  for (let i = 0; i < 8; i++) lines.push(nums(p.subarray(i * 3, i * 3 + 3)));
  for (const q of quads(body.indices)) lines.push(`4 ${q.join(' ')}`);
  return lines.join('\n') + '\n';
}

/** An OFF with three vertices and no face. */
export const OFF_EMPTY = 'OFF\n3 0 0\n0 0 0\n1 0 0\n0 1 0\n';

// ---------- Collada ----------

export interface ColladaOptions {
  /** <unit>; omitted: none (the Collada default, one metre). */
  unit?: { name: string; meter: number };
  up?: 'X_UP' | 'Y_UP' | 'Z_UP';
}

function colladaGeometry(id: string, m: { positions: Float32Array; indices: Uint32Array }): string {
  return `<geometry id="${id}" name="${id}"><mesh>
  <source id="${id}-p"><float_array id="${id}-pa" count="${m.positions.length}">${nums(m.positions)}</float_array>
    <technique_common><accessor source="#${id}-pa" count="${m.positions.length / 3}" stride="3"><param name="X" type="float"/><param name="Y" type="float"/><param name="Z" type="float"/></accessor></technique_common></source>
  <vertices id="${id}-v"><input semantic="POSITION" source="#${id}-p"/></vertices>
  <polylist material="surface" count="6"><input semantic="VERTEX" source="#${id}-v" offset="0"/><vcount>4 4 4 4 4 4</vcount><p>${quads(m.indices).flat().join(' ')}</p></polylist>
</mesh></geometry>`;
}

const effect = (id: string, rgba: number[]) =>
  `<effect id="${id}-fx"><profile_COMMON><technique sid="common"><lambert><diffuse><color>${rgba.join(' ')}</color></diffuse></lambert></technique></profile_COMMON></effect>`;
const instance = (geometry: string, material: string) =>
  `<instance_geometry url="#${geometry}"><bind_material><technique_common><instance_material symbol="surface" target="#${material}"/></technique_common></bind_material></instance_geometry>`;

function collada(asset: string, libraries: string, nodes: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<COLLADA xmlns="http://www.collada.org/2005/11/COLLADASchema" version="1.4.1">
<asset><contributor><authoring_tool>pixyz-scheduler tests</authoring_tool></contributor>${asset}</asset>
${libraries}
<library_visual_scenes><visual_scene id="scene" name="scene">${nodes}</visual_scene></library_visual_scenes>
<scene><instance_visual_scene url="#scene"/></scene>
</COLLADA>
`;
}

/** The two-part model as Collada: node ids differ from their names, which are what a reader should keep. */
export function colladaAssembly(options: ColladaOptions = {}): string {
  const asset = `${options.unit ? `<unit name="${options.unit.name}" meter="${options.unit.meter}"/>` : ''}${options.up ? `<up_axis>${options.up}</up_axis>` : ''}`;
  const libraries = `<library_effects>${effect('red', [1, 0, 0, 1])}${effect('blue', [0, 0, 1, 1])}</library_effects>
<library_materials><material id="red" name="red"><instance_effect url="#red-fx"/></material><material id="blue" name="blue"><instance_effect url="#blue-fx"/></material></library_materials>
<library_geometries>${colladaGeometry('body-mesh', body)}${colladaGeometry('wheel-mesh', wheel)}</library_geometries>`;
  const nodes = `<node id="n1" name="body">${instance('body-mesh', 'red')}</node>
<node id="n2" name="group"><translate>${nums(GROUP_OFFSET)}</translate><node id="n3" name="wheel">${instance('wheel-mesh', 'blue')}</node></node>`;
  return collada(asset, libraries, nodes);
}

/** A unit quad (two triangles) textured with `image`, a file beside the .dae. */
export function colladaTexturedQuad(image: string): string {
  const libraries = `<library_images><image id="img"><init_from>${image}</init_from></image></library_images>
<library_effects><effect id="tex-fx"><profile_COMMON>
  <newparam sid="surf"><surface type="2D"><init_from>img</init_from></surface></newparam>
  <newparam sid="samp"><sampler2D><source>surf</source></sampler2D></newparam>
  <technique sid="common"><lambert><diffuse><texture texture="samp" texcoord="UV0"/></diffuse></lambert></technique></profile_COMMON></effect></library_effects>
<library_materials><material id="checker" name="checker"><instance_effect url="#tex-fx"/></material></library_materials>
<library_geometries><geometry id="quad-mesh"><mesh>
  <source id="qp"><float_array id="qpa" count="12">0 0 0 1 0 0 1 1 0 0 1 0</float_array><technique_common><accessor source="#qpa" count="4" stride="3"><param name="X" type="float"/><param name="Y" type="float"/><param name="Z" type="float"/></accessor></technique_common></source>
  <source id="qt"><float_array id="qta" count="8">0 0 1 0 1 1 0 1</float_array><technique_common><accessor source="#qta" count="4" stride="2"><param name="S" type="float"/><param name="T" type="float"/></accessor></technique_common></source>
  <vertices id="qv"><input semantic="POSITION" source="#qp"/></vertices>
  <triangles material="surface" count="2"><input semantic="VERTEX" source="#qv" offset="0"/><input semantic="TEXCOORD" source="#qt" offset="0" set="0"/><p>0 1 2 0 2 3</p></triangles>
</mesh></geometry></library_geometries>`;
  const nodes = `<node id="q" name="quad"><instance_geometry url="#quad-mesh"><bind_material><technique_common><instance_material symbol="surface" target="#checker"><bind_vertex_input semantic="UV0" input_semantic="TEXCOORD" input_set="0"/></instance_material></technique_common></bind_material></instance_geometry></node>`;
  return collada('<up_axis>Y_UP</up_axis>', libraries, nodes);
}

/** A Collada scene with a node and no geometry. */
export const DAE_EMPTY = collada('', '', '<node id="n" name="nothing"/>');

/** A 2×2 PNG: red, green / green, red. */
export function checkerPng(): Buffer {
  const png = new PNG({ width: 2, height: 2 });
  [255, 0, 0, 255, 0, 255, 0, 255, 0, 255, 0, 255, 255, 0, 0, 255].forEach((v, i) => (png.data[i] = v));
  return PNG.sync.write(png);
}

// ---------- 3MF ----------

function threeMfMesh(m: { positions: Float32Array; indices: Uint32Array }): string {
  const v: string[] = [];
  for (let i = 0; i < m.positions.length; i += 3) v.push(`<vertex x="${m.positions[i]}" y="${m.positions[i + 1]}" z="${m.positions[i + 2]}"/>`);
  const t: string[] = [];
  for (let i = 0; i < m.indices.length; i += 3) t.push(`<triangle v1="${m.indices[i]}" v2="${m.indices[i + 1]}" v3="${m.indices[i + 2]}"/>`);
  return `<mesh><vertices>${v.join('')}</vertices><triangles>${t.join('')}</triangles></mesh>`;
}

/** Writes a 3MF package (a zip) whose model part is `model`, with Python's zipfile. */
export function write3mf(file: string, model: string): void {
  const parts = {
    '[Content_Types].xml': `<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="model" ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/></Types>`,
    '_rels/.rels': `<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Target="/3D/3dmodel.model" Id="rel0" Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/></Relationships>`,
    '3D/3dmodel.model': model,
  };
  const script = `
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    for name, content in json.loads(sys.stdin.read()).items():
        z.writestr(name, content)
`;
  const res = spawnSync('python3', ['-c', script, file], { input: JSON.stringify(parts), encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`write3mf failed: ${res.error?.message ?? res.stderr}`);
}

const threeMfModel = (unit: string | undefined, resources: string, build: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>
<model ${unit ? `unit="${unit}" ` : ''}xml:lang="en-US" xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02">
<resources>${resources}</resources>
<build>${build}</build>
</model>`;

/** The two-part model as a 3MF model part; the group is an object made of a component. */
export function threeMfAssembly(unit?: string): string {
  return threeMfModel(
    unit,
    `<basematerials id="1"><base name="red" displaycolor="#FF0000"/><base name="blue" displaycolor="#0000FFFF"/></basematerials>
<object id="2" name="body" type="model" pid="1" pindex="0">${threeMfMesh(body)}</object>
<object id="3" name="wheel" type="model" pid="1" pindex="1">${threeMfMesh(wheel)}</object>
<object id="4" name="group" type="model"><components><component objectid="3" transform="1 0 0 0 1 0 0 0 1 ${nums(GROUP_OFFSET)}"/></components></object>`,
    '<item objectid="2"/><item objectid="4"/>',
  );
}

/** A 3MF model part with no object. */
export const THREE_MF_EMPTY = threeMfModel('millimeter', '', '');

// ---------- 3DS ----------

/** A 3DS chunk: id, length (header included), then its data and sub-chunks. */
function chunk(id: number, ...parts: Buffer[]): Buffer {
  const head = Buffer.alloc(6);
  head.writeUInt16LE(id, 0);
  head.writeUInt32LE(6 + parts.reduce((n, p) => n + p.length, 0), 2);
  return Buffer.concat([head, ...parts]);
}
const cstr = (s: string) => Buffer.from(`${s}\0`, 'latin1');
const u16 = (...v: number[]) => Buffer.from(Uint16Array.from(v).buffer);
const f32 = (...v: number[]) => Buffer.from(Float32Array.from(v).buffer);

function threeDsObject(name: string, m: { positions: Float32Array; indices: Uint32Array }, offset: number[], material: string): Buffer {
  const p = Array.from(m.positions, (x, i) => x + offset[i % 3]!);
  const faces: Buffer[] = [u16(m.indices.length / 3)];
  for (let i = 0; i < m.indices.length; i += 3) faces.push(u16(m.indices[i]!, m.indices[i + 1]!, m.indices[i + 2]!, 0));
  const all = Array.from({ length: m.indices.length / 3 }, (_, i) => i);
  return chunk(
    0x4000, // EDIT_OBJECT
    cstr(name),
    chunk(
      0x4100, // OBJ_TRIMESH
      chunk(0x4110, u16(p.length / 3), f32(...p)), // vertices
      chunk(0x4120, ...faces, chunk(0x4130, cstr(material), u16(all.length, ...all))), // faces, with their material
    ),
  );
}

const threeDsMaterial = (name: string, rgb: number[]) => chunk(0xafff, chunk(0xa000, cstr(name)), chunk(0xa020, chunk(0x0011, Buffer.from(rgb))));
/** A keyframer node: its id, its object's name, its parent (0xffff: none). */
const keyframerNode = (id: number, name: string, parent: number) => chunk(0xb002, chunk(0xb030, u16(id)), chunk(0xb010, cstr(name), u16(0, 0, parent)));

/**
 * The two-part model as a binary 3DS. 3DS keeps each object's vertices in world space and its
 * names in the keyframer section; the wheel has its group's offset baked in (no group node).
 */
export function threeDsAssembly(): Buffer {
  const version = chunk(0x0002, Buffer.from([3, 0, 0, 0]));
  const editor = chunk(
    0x3d3d,
    chunk(0x3d3e, Buffer.from([3, 0, 0, 0])), // mesh version
    threeDsMaterial('red', [255, 0, 0]),
    threeDsMaterial('blue', [0, 0, 255]),
    chunk(0x0100, f32(1)), // master scale
    threeDsObject('body', body, [0, 0, 0], 'red'),
    threeDsObject('wheel', wheel, GROUP_OFFSET, 'blue'),
  );
  const keyframer = chunk(0xb000, chunk(0xb00a, u16(5), cstr('MAXSCENE'), Buffer.alloc(4)), keyframerNode(0, 'body', 0xffff), keyframerNode(1, 'wheel', 0xffff));
  return chunk(0x4d4d, version, editor, keyframer);
}

/** A 3DS with an editor section and no object. */
export function threeDsEmpty(): Buffer {
  return chunk(0x4d4d, chunk(0x0002, Buffer.from([3, 0, 0, 0])), chunk(0x3d3d, chunk(0x3d3e, Buffer.from([3, 0, 0, 0]))));
}

// ---------- FBX ----------

/** An FBX property, typed as the binary encoding needs. */
type FbxValue = { t: 'I' | 'L' | 'D'; v: number } | { t: 'S'; v: string } | { t: 'O'; cls: string; name: string } | { t: 'i' | 'd'; v: number[] };
interface FbxNode {
  name: string;
  props: FbxValue[];
  children?: FbxNode[];
}
const I = (v: number): FbxValue => ({ t: 'I', v });
const L = (v: number): FbxValue => ({ t: 'L', v });
const D = (v: number): FbxValue => ({ t: 'D', v });
const S = (v: string): FbxValue => ({ t: 'S', v });
/** An object's name: "Class::name" in ASCII, "name\0\x01Class" in binary. */
const O = (cls: string, name: string): FbxValue => ({ t: 'O', cls, name });
const node = (name: string, props: FbxValue[], children?: FbxNode[]): FbxNode => ({ name, props, ...(children ? { children } : {}) });
const P = (...props: FbxValue[]) => node('P', props);

function fbxGeometry(id: number, name: string, m: { positions: Float32Array; indices: Uint32Array }): FbxNode {
  // The last index of each polygon is stored as -(index + 1).
  const polygons = quads(m.indices).flatMap((q) => [q[0]!, q[1]!, q[2]!, -q[3]! - 1]);
  return node('Geometry', [L(id), O('Geometry', name), S('Mesh')], [
    node('Vertices', [{ t: 'd', v: Array.from(m.positions) }]),
    node('PolygonVertexIndex', [{ t: 'i', v: polygons }]),
    node('GeometryVersion', [I(124)]),
    node('LayerElementMaterial', [I(0)], [
      node('Version', [I(101)]),
      node('Name', [S('')]),
      node('MappingInformationType', [S('AllSame')]),
      node('ReferenceInformationType', [S('IndexToDirect')]),
      node('Materials', [{ t: 'i', v: [0] }]),
    ]),
    node('Layer', [I(0)], [node('Version', [I(100)]), node('LayerElement', [], [node('Type', [S('LayerElementMaterial')]), node('TypedIndex', [I(0)])])]),
  ]);
}

const fbxModel = (id: number, name: string, kind: 'Mesh' | 'Null', translation?: number[]) =>
  node('Model', [L(id), O('Model', name), S(kind)], [
    node('Version', [I(232)]),
    node('Properties70', [], translation ? [P(S('Lcl Translation'), S('Lcl Translation'), S(''), S('A'), ...translation.map(D))] : []),
  ]);
const fbxMaterial = (id: number, name: string, rgb: number[]) =>
  node('Material', [L(id), O('Material', name), S('')], [
    node('Version', [I(102)]),
    node('ShadingModel', [S('lambert')]),
    node('Properties70', [], [P(S('DiffuseColor'), S('Color'), S(''), S('A'), ...rgb.map(D))]),
  ]);
const link = (child: number, parent: number) => node('C', [S('OO'), L(child), L(parent)]);

function fbxDocument(unitScaleFactor: number, objects: FbxNode[], connections: FbxNode[]): FbxNode[] {
  const axis = (name: string, v: number) => P(S(name), S('int'), S('Integer'), S(''), I(v));
  return [
    node('FBXHeaderExtension', [], [node('FBXHeaderVersion', [I(1003)]), node('FBXVersion', [I(7400)]), node('Creator', [S('pixyz-scheduler tests')])]),
    node('GlobalSettings', [], [
      node('Version', [I(1000)]),
      node('Properties70', [], [
        axis('UpAxis', 1),
        axis('UpAxisSign', 1),
        axis('FrontAxis', 2),
        axis('FrontAxisSign', 1),
        axis('CoordAxis', 0),
        axis('CoordAxisSign', 1),
        P(S('UnitScaleFactor'), S('double'), S('Number'), S(''), D(unitScaleFactor)),
      ]),
    ]),
    node('Objects', [], objects),
    node('Connections', [], connections),
  ];
}

function fbxAssemblyNodes(unitScaleFactor: number): FbxNode[] {
  const objects = [
    fbxGeometry(10, 'body-mesh', body),
    fbxGeometry(11, 'wheel-mesh', wheel),
    fbxModel(20, 'body', 'Mesh'),
    fbxModel(21, 'group', 'Null', GROUP_OFFSET),
    fbxModel(22, 'wheel', 'Mesh'),
    fbxMaterial(30, 'red', [1, 0, 0]),
    fbxMaterial(31, 'blue', [0, 0, 1]),
  ];
  // 0 is the scene's root.
  const connections = [link(20, 0), link(21, 0), link(22, 21), link(10, 20), link(11, 22), link(30, 20), link(31, 22)];
  return fbxDocument(unitScaleFactor, objects, connections);
}

function fbxAscii(nodes: FbxNode[]): string {
  const value = (p: FbxValue): string => {
    switch (p.t) {
      case 'S':
        return JSON.stringify(p.v);
      case 'O':
        return JSON.stringify(`${p.cls}::${p.name}`);
      case 'i':
      case 'd':
        return `*${p.v.length}`;
      default:
        return String(p.v);
    }
  };
  const write = (n: FbxNode, indent: string): string[] => {
    const array = n.props.find((p): p is { t: 'i' | 'd'; v: number[] } => p.t === 'i' || p.t === 'd');
    const head = `${indent}${n.name}: ${n.props.map(value).join(', ')}`;
    if (array) return [`${head} {`, `${indent}\ta: ${array.v.join(',')}`, `${indent}}`];
    if (!n.children) return [head];
    return [`${head} {`, ...n.children.flatMap((c) => write(c, `${indent}\t`)), `${indent}}`];
  };
  return ['; FBX 7.4.0 project file', ...nodes.flatMap((n) => write(n, ''))].join('\n') + '\n';
}

/** Binary FBX 7.4: node records with 32-bit offsets, each list of children closed by a 13-byte null record. */
function fbxBinary(nodes: FbxNode[]): Buffer {
  const prop = (p: FbxValue): Buffer => {
    const typed = (t: string, data: Buffer) => Buffer.concat([Buffer.from(t), data]);
    switch (p.t) {
      case 'I': {
        const b = Buffer.alloc(4);
        b.writeInt32LE(p.v);
        return typed('I', b);
      }
      case 'L': {
        const b = Buffer.alloc(8);
        b.writeBigInt64LE(BigInt(p.v));
        return typed('L', b);
      }
      case 'D': {
        const b = Buffer.alloc(8);
        b.writeDoubleLE(p.v);
        return typed('D', b);
      }
      case 'S':
      case 'O': {
        const s = p.t === 'S' ? Buffer.from(p.v, 'utf8') : Buffer.concat([Buffer.from(p.name), Buffer.from([0, 1]), Buffer.from(p.cls)]);
        const len = Buffer.alloc(4);
        len.writeUInt32LE(s.length);
        return typed('S', Buffer.concat([len, s]));
      }
      case 'i':
      case 'd': {
        const data = p.t === 'i' ? Buffer.from(Int32Array.from(p.v).buffer) : Buffer.from(Float64Array.from(p.v).buffer);
        const head = Buffer.alloc(12);
        head.writeUInt32LE(p.v.length, 0); // count
        head.writeUInt32LE(0, 4); // not compressed
        head.writeUInt32LE(data.length, 8);
        return typed(p.t, Buffer.concat([head, data]));
      }
    }
  };
  const NULL_RECORD = Buffer.alloc(13);
  const record = (n: FbxNode, at: number): Buffer => {
    const props = Buffer.concat(n.props.map(prop));
    const name = Buffer.from(n.name);
    let offset = at + 13 + name.length + props.length;
    const children: Buffer[] = [];
    for (const c of n.children ?? []) {
      const b = record(c, offset);
      children.push(b);
      offset += b.length;
    }
    if (n.children) children.push(NULL_RECORD);
    const head = Buffer.alloc(13);
    const end = offset + (n.children ? NULL_RECORD.length : 0);
    head.writeUInt32LE(end, 0);
    head.writeUInt32LE(n.props.length, 4);
    head.writeUInt32LE(props.length, 8);
    head.writeUInt8(name.length, 12);
    return Buffer.concat([head, name, props, ...children]);
  };
  const header = Buffer.concat([Buffer.from('Kaydara FBX Binary  \0', 'latin1'), Buffer.from([0x1a, 0x00]), Buffer.alloc(4)]);
  header.writeUInt32LE(7400, 23);
  const out: Buffer[] = [header];
  let offset = header.length;
  for (const n of nodes) {
    const b = record(n, offset);
    out.push(b);
    offset += b.length;
  }
  out.push(NULL_RECORD);
  return Buffer.concat(out);
}

/**
 * The two-part model as FBX 7.4. `unitScaleFactor` is FBX's unit: centimetres per unit
 * (0.1: millimetres, 100: metres).
 */
export function fbxAssembly(encoding: 'ascii' | 'binary', unitScaleFactor = 1): string | Buffer {
  const nodes = fbxAssemblyNodes(unitScaleFactor);
  return encoding === 'ascii' ? fbxAscii(nodes) : fbxBinary(nodes);
}

/** An FBX with a model and no geometry. */
export function fbxEmpty(): string {
  return fbxAscii(fbxDocument(1, [fbxModel(20, 'nothing', 'Null')], [link(20, 0)]));
}
