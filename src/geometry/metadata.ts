// What generate_metadata reports: upstream's keys where the data exists (null, not a made-up 0,
// where it cannot be known), and more: bounds, units, the node tree, the materials.
import type { Node } from '@gltf-transform/core';
import { applyMatrix, eachPrimitive, type Document } from './model';

export interface NodeInfo {
  name: string;
  triangles: number;
  children: NodeInfo[];
}

export interface ModelMetadata {
  /** Upstream: the bounding box's diagonal, as a string. */
  aabb: string;
  part_count: number;
  material_count: number;
  brep_boundary: number | null;
  brep_body_count: number | null;
  mesh_boundary: number | null;
  mesh_edge_count: number;
  mesh_vertex_count: number;
  polygon_count: number;
  animation_count: number;
  variant_count: number;
  pmi_component_count: number | null;
  annotation_group_count: number | null;
  annotation_count: number | null;
  metadata_component_count: number | null;
  metadata_property_count: number | null;
  // Beyond upstream:
  brep_face_count: number | null;
  bbox: { min: [number, number, number]; max: [number, number, number] } | null;
  units: string | null;
  format: string;
  bytes: number;
  materials: { name: string; baseColor: [number, number, number, number] }[];
  nodes: NodeInfo[];
}

export function countTriangles(doc: Document): number {
  let n = 0;
  eachPrimitive(doc, (_node, prim) => {
    const idx = prim.getIndices();
    n += Math.floor((idx ? idx.getCount() : prim.getAttribute('POSITION')!.getCount()) / 3);
  });
  return n;
}

export function computeMetadata(
  doc: Document,
  source: { format: string; units: string | null; bytes: number; brep?: { bodies: number; faces: number } },
): ModelMetadata {
  const min: [number, number, number] = [Infinity, Infinity, Infinity];
  const max: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  let vertices = 0;
  let polygons = 0;
  let edges = 0;
  const trianglesByNode = new Map<Node, number>();
  const parts = new Set<Node>();
  eachPrimitive(doc, (node, prim, world) => {
    parts.add(node);
    const pos = prim.getAttribute('POSITION')!;
    vertices += pos.getCount();
    const p = [0, 0, 0];
    for (let i = 0; i < pos.getCount(); i++) {
      const w = applyMatrix(world, pos.getElement(i, p));
      for (let k = 0; k < 3; k++) {
        min[k] = Math.min(min[k]!, w[k]!);
        max[k] = Math.max(max[k]!, w[k]!);
      }
    }
    const idx = prim.getIndices();
    const count = idx ? idx.getCount() : pos.getCount();
    const at = (i: number) => (idx ? idx.getScalar(i) : i);
    const tris = Math.floor(count / 3);
    polygons += tris;
    trianglesByNode.set(node, (trianglesByNode.get(node) ?? 0) + tris);
    const seen = new Set<string>();
    for (let t = 0; t < tris; t++) {
      const v = [at(t * 3), at(t * 3 + 1), at(t * 3 + 2)];
      for (let e = 0; e < 3; e++) {
        const a = v[e]!;
        const b = v[(e + 1) % 3]!;
        seen.add(a < b ? `${a},${b}` : `${b},${a}`);
      }
    }
    edges += seen.size;
  });
  const root = doc.getRoot();
  const scene = root.getDefaultScene() ?? root.listScenes()[0];
  const tree = (node: Node): NodeInfo => ({
    name: node.getName(),
    triangles: trianglesByNode.get(node) ?? 0,
    children: node.listChildren().map(tree),
  });
  const hasBox = Number.isFinite(min[0]);
  const diagonal = hasBox ? Math.hypot(max[0] - min[0], max[1] - min[1], max[2] - min[2]) : 0;
  const variants = root.listExtensionsUsed().find((e) => e.extensionName === 'KHR_materials_variants');
  return {
    aabb: String(diagonal),
    part_count: parts.size,
    material_count: root.listMaterials().length,
    brep_boundary: null,
    brep_body_count: source.brep ? source.brep.bodies : null, // meshes carry no B-rep
    mesh_boundary: null,
    mesh_edge_count: edges,
    mesh_vertex_count: vertices,
    polygon_count: polygons,
    animation_count: root.listAnimations().length,
    variant_count: variants ? ((variants as unknown as { listVariants(): unknown[] }).listVariants?.().length ?? 0) : 0,
    brep_face_count: source.brep ? source.brep.faces : null,
    pmi_component_count: null,
    annotation_group_count: null,
    annotation_count: null,
    metadata_component_count: null,
    metadata_property_count: null,
    bbox: hasBox ? { min, max } : null,
    units: source.units,
    format: source.format,
    bytes: source.bytes,
    materials: root.listMaterials().map((m) => ({ name: m.getName(), baseColor: m.getBaseColorFactor() as [number, number, number, number] })),
    nodes: scene ? scene.listChildren().map(tree) : [],
  };
}
