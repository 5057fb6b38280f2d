// IFC (BIM) through web-ifc (MPL-2.0, WebAssembly): one node per IFC product that has geometry,
// under its storey, building and site, with one material per distinct colour.
//
// Units and axes: web-ifc tessellates each representation item in the file's own units and puts
// the model's linear scaling factor (IfcUnitAssignment's length unit → metres) and a Z-up → Y-up
// turn ((x, y, z) → (x, z, −y)) into the placement matrices it gives with them. That turn is kept:
// IFC is Z-up by definition and glTF Y-up, and every BIM viewer and converter shows a building
// upright that way — the one format whose axes we convert (the others keep their coordinates).
import type { Accessor, Mesh } from '@gltf-transform/core';
import type { IfcAPI } from 'web-ifc';
import { colorMaterial, createDocument, type Document, type Material, type Node } from './model';
import { srgbToLinear } from './color';
import { lazy } from './lazy';
import { ModelFormatError } from './stl';

type WebIfc = typeof import('web-ifc');

const webIfc = lazy(async () => {
  const lib = require('web-ifc') as WebIfc; // 6 MB of JavaScript: loaded at the first IFC file, not with the library
  const api = new lib.IfcAPI();
  await api.Init(); // in Node it finds web-ifc-node.wasm beside its own script: no SetWasmPath
  api.SetLogLevel(lib.LogLevel.LOG_LEVEL_OFF); // a failure comes back as our error, naming the file
  return { api, lib };
});

/** Starts loading web-ifc's WebAssembly now (a script process started ahead of its job). */
export const preloadIfc = webIfc.preload;

export interface IfcModel {
  document: Document;
  /** Always 'm': web-ifc scales the geometry to metres (see above). */
  units: string | null;
  /** The FILE_SCHEMA of the header: IFC2X3, IFC4, IFC4X3… */
  schema?: string;
}

interface Placed {
  geometry: number;
  material: Material;
  matrix: number[];
}

interface Line {
  [attribute: string]: unknown;
}
type Ref = { value?: unknown } | null | undefined;
const refOf = (r: unknown): number | undefined => {
  const v = (r as Ref)?.value;
  return typeof v === 'number' ? v : undefined;
};
const textOf = (r: unknown): string | undefined => {
  const v = (r as Ref)?.value;
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
};


export async function readIfc(data: Uint8Array, name: string): Promise<IfcModel> {
  const head = new TextDecoder('latin1').decode(data.subarray(0, 64 * 1024));
  // The header (after a UTF-8 byte order mark, if any: web-ifc reads those).
  if (!/^(?:\u00EF\u00BB\u00BF)?\s*ISO-10303-21\s*;/.test(head)) throw new ModelFormatError(`'${name}' is not an IFC file (no ISO-10303-21 header)`);
  const schema = /FILE_SCHEMA\s*\(\s*\(\s*'([^']*)'/i.exec(head)?.[1]?.trim().toUpperCase();
  if (!schema) throw new ModelFormatError(`'${name}' is not an IFC file (no FILE_SCHEMA in its header)`);
  if (!schema.startsWith('IFC')) throw new ModelFormatError(`'${name}' is a STEP file of schema ${schema}, not IFC: read it as .step`);

  const { api, lib } = await webIfc.get();
  let model = -1;
  try {
    model = api.OpenModel(data, { COORDINATE_TO_ORIGIN: false }); // keep the file's own (site) coordinates
  } catch {
    model = -1;
  }
  if (model < 0) throw new ModelFormatError(`'${name}' could not be read by web-ifc as ${schema} (corrupt or truncated, or a schema it does not read)`);
  try {
    return { document: build(api, lib, model, name), units: 'm', schema };
  } catch (err) {
    if (err instanceof ModelFormatError) throw err;
    throw new ModelFormatError(`'${name}' could not be read by web-ifc: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    api.CloseModel(model);
  }
}

function build(api: IfcAPI, lib: WebIfc, model: number, fileName: string): Document {
  const line = (id: number): Line | undefined => {
    try {
      return api.GetLine(model, id) as Line;
    } catch {
      return undefined; // a line web-ifc cannot parse: its name is lost, not the model
    }
  };
  const ids = (type: number) => [...api.GetLineIDsWithType(model, type)];

  // The spatial tree: each element's container (IfcRelContainedInSpatialStructure) or whole (IfcRelAggregates).
  const parentOf = new Map<number, number>();
  for (const id of ids(lib.IFCRELAGGREGATES)) {
    const rel = line(id);
    const whole = refOf(rel?.RelatingObject);
    if (whole !== undefined) for (const part of (rel?.RelatedObjects as unknown[] | undefined) ?? []) if (refOf(part) !== undefined) parentOf.set(refOf(part)!, whole);
  }
  for (const id of ids(lib.IFCRELCONTAINEDINSPATIALSTRUCTURE)) {
    const rel = line(id);
    const container = refOf(rel?.RelatingStructure);
    if (container !== undefined)
      for (const element of (rel?.RelatedElements as unknown[] | undefined) ?? []) {
        const e = refOf(element);
        if (e !== undefined && !parentOf.has(e)) parentOf.set(e, container); // a part of an aggregate stays under its whole
      }
  }
  const project = new Set(ids(lib.IFCPROJECT)); // the file's root node stands for the project

  // Surface style names by representation item, to name the materials.
  const styleOf = new Map<number, string>();
  const styleName = (ref: unknown, depth = 0): string | undefined => {
    const id = refOf(ref);
    if (id === undefined || depth > 2) return undefined;
    const style = line(id);
    if (!style) return undefined;
    if (api.GetLineType(model, id) === lib.IFCSURFACESTYLE) return textOf(style.Name);
    for (const s of (style.Styles as unknown[] | undefined) ?? []) {
      const n = styleName(s, depth + 1); // IFC2X3: through an IfcPresentationStyleAssignment
      if (n) return n;
    }
    return undefined;
  };
  for (const id of ids(lib.IFCSTYLEDITEM)) {
    const styled = line(id);
    const item = refOf(styled?.Item);
    if (item === undefined) continue;
    for (const s of (styled?.Styles as unknown[] | undefined) ?? []) {
      const n = styleName(s);
      if (n) {
        styleOf.set(item, n);
        break;
      }
    }
  }

  const doc = createDocument();
  const buffer = doc.getRoot().listBuffers()[0]!;
  const materials = new Map<string, Material>();
  const materialIds = new Map<Material, number>();
  const materialOf = (c: { x: number; y: number; z: number; w: number }, item: number): Material => {
    const rgba = [c.x, c.y, c.z, c.w].map((v) => Math.min(1, Math.max(0, v)));
    const key = rgba.map((v) => v.toFixed(4)).join(',');
    let m = materials.get(key);
    if (!m) {
      m = colorMaterial(doc, styleOf.get(item) ?? `color_${materials.size}`, [srgbToLinear(rgba[0]!), srgbToLinear(rgba[1]!), srgbToLinear(rgba[2]!), rgba[3]!] /* IFC colours are sRGB */);
      if (rgba[3]! < 1) m.setAlphaMode('BLEND');
      materials.set(key, m);
      materialIds.set(m, materialIds.size);
    }
    return m;
  };

  // Each representation item's triangles, once, however many times it is placed (mapped items).
  const geometries = new Map<number, { position: Accessor; normal: Accessor; indices: Accessor } | null>();
  const geometryOf = (id: number) => {
    if (geometries.has(id)) return geometries.get(id)!;
    const g = api.GetGeometry(model, id);
    let result: { position: Accessor; normal: Accessor; indices: Accessor } | null = null;
    try {
      const vertices = api.GetVertexArray(g.GetVertexData(), g.GetVertexDataSize()); // x y z nx ny nz per vertex
      const index = api.GetIndexArray(g.GetIndexData(), g.GetIndexDataSize());
      const count = Math.floor(vertices.length / 6);
      if (count > 0 && index.length >= 3) {
        const positions = new Float32Array(count * 3);
        const normals = new Float32Array(count * 3);
        for (let v = 0; v < count; v++)
          for (let k = 0; k < 3; k++) {
            positions[v * 3 + k] = vertices[v * 6 + k]!;
            normals[v * 3 + k] = vertices[v * 6 + 3 + k]!;
          }
        const accessor = (type: 'VEC3' | 'SCALAR', array: Float32Array | Uint32Array) => doc.createAccessor().setType(type).setArray(array).setBuffer(buffer);
        result = {
          position: accessor('VEC3', positions),
          normal: accessor('VEC3', normals),
          indices: accessor('SCALAR', index.subarray(0, index.length - (index.length % 3))),
        };
      }
    } finally {
      g.delete();
    }
    geometries.set(id, result);
    return result;
  };

  const placed = new Map<number, Placed[]>();
  api.StreamAllMeshes(model, (mesh) => {
    const list: Placed[] = [];
    for (let i = 0; i < mesh.geometries.size(); i++) {
      const g = mesh.geometries.get(i);
      if (!geometryOf(g.geometryExpressID)) continue;
      list.push({ geometry: g.geometryExpressID, material: materialOf(g.color, g.geometryExpressID), matrix: Array.from(g.flatTransformation) });
    }
    if (list.length > 0) placed.set(mesh.expressID, (placed.get(mesh.expressID) ?? []).concat(list));
    // (the FlatMesh is web-ifc's own while it streams: deleting it here breaks the stream)
  });

  const label = (id: number): string => {
    const own = textOf(line(id)?.Name);
    return own ?? `${api.GetNameFromTypeCode(api.GetLineType(model, id)) || 'IfcProduct'} #${id}`;
  };
  const root = doc.createNode(fileName);
  doc.getRoot().getDefaultScene()!.addChild(root);
  const nodes = new Map<number, Node>();
  const nodeOf = (id: number, path = new Set<number>()): Node => {
    let node = nodes.get(id);
    if (node) return node;
    node = doc.createNode(label(id));
    nodes.set(id, node);
    path.add(id);
    const parent = parentOf.get(id);
    if (parent === undefined || project.has(parent) || path.has(parent)) root.addChild(node);
    else nodeOf(parent, path).addChild(node);
    return node;
  };
  const products = [...placed.keys()].sort((a, b) => a - b);
  for (const id of products) nodeOf(id);

  // A product's placements grouped by matrix: one node, with a mesh of one primitive per item.
  const meshes = new Map<string, Mesh>();
  const meshOf = (items: Placed[], name: string): Mesh => {
    const key = items.map((p) => `${p.geometry}:${materialIds.get(p.material)}`).join(' ');
    let mesh = meshes.get(key);
    if (!mesh) {
      mesh = doc.createMesh(name);
      for (const p of items) {
        const g = geometries.get(p.geometry)!;
        mesh.addPrimitive(doc.createPrimitive().setAttribute('POSITION', g.position).setAttribute('NORMAL', g.normal).setIndices(g.indices).setMaterial(p.material));
      }
      meshes.set(key, mesh);
    }
    return mesh;
  };
  for (const id of products) {
    const node = nodes.get(id)!;
    const groups = new Map<string, Placed[]>();
    for (const p of placed.get(id)!) {
      const key = p.matrix.join(',');
      const group = groups.get(key);
      if (group) group.push(p);
      else groups.set(key, [p]);
    }
    const alone = groups.size === 1 && node.listChildren().length === 0;
    for (const items of groups.values()) {
      const target = alone ? node : doc.createNode(node.getName());
      target.setMesh(meshOf(items, node.getName())).setMatrix(items[0]!.matrix as Parameters<Node['setMatrix']>[0]);
      if (!alone) node.addChild(target); // the product's own geometry beside its parts, or placed several ways
    }
  }
  return doc;
}
