// The in-memory model of every 3D process: a glTF-Transform Document (scenes, nodes, meshes,
// materials), whatever the file format it came from or goes to.
import { Document, type Material, type Node } from '@gltf-transform/core';

export type { Document, Node, Material };

export interface MeshInput {
  name: string;
  positions: Float32Array;
  /** Triangle indices; omitted: every 3 positions make a triangle. */
  indices?: Uint32Array;
  normals?: Float32Array;
  material?: Material | null;
}

/** A new document with one scene and one buffer, ready for meshes. */
export function createDocument(): Document {
  const doc = new Document();
  doc.createBuffer();
  doc.getRoot().setDefaultScene(doc.createScene('Scene'));
  return doc;
}

/** Adds a mesh under `parent` (or the scene's root) and returns its node. */
export function addMesh(doc: Document, input: MeshInput, parent?: Node): Node {
  const buffer = doc.getRoot().listBuffers()[0] ?? doc.createBuffer();
  const prim = doc.createPrimitive().setAttribute('POSITION', doc.createAccessor().setType('VEC3').setArray(input.positions).setBuffer(buffer));
  if (input.normals) prim.setAttribute('NORMAL', doc.createAccessor().setType('VEC3').setArray(input.normals).setBuffer(buffer));
  if (input.indices) prim.setIndices(doc.createAccessor().setType('SCALAR').setArray(input.indices).setBuffer(buffer));
  if (input.material) prim.setMaterial(input.material);
  const mesh = doc.createMesh(input.name).addPrimitive(prim);
  const node = doc.createNode(input.name).setMesh(mesh);
  if (parent) parent.addChild(node);
  else (doc.getRoot().getDefaultScene() ?? doc.getRoot().listScenes()[0]!).addChild(node);
  return node;
}

/** A material with a base colour (linear RGBA, as glTF keeps it). */
export function colorMaterial(doc: Document, name: string, rgba: [number, number, number, number]): Material {
  return doc.createMaterial(name).setBaseColorFactor(rgba).setDoubleSided(true);
}

/** Calls `visit` for each triangle primitive of the default scene, with its node's world matrix. */
export function eachPrimitive(
  doc: Document,
  visit: (node: Node, prim: ReturnType<NonNullable<ReturnType<Node['getMesh']>>['listPrimitives']>[number], world: number[]) => void,
): void {
  eachMeshNode(doc, (node, world) => {
    for (const prim of node.getMesh()!.listPrimitives()) if (prim.getMode() === 4 && prim.getAttribute('POSITION')) visit(node, prim, world);
  });
}

/** A point through a column-major 4×4 matrix. */
export function applyMatrix(m: number[], p: ArrayLike<number>): [number, number, number] {
  return transform(m, p[0]!, p[1]!, p[2]!);
}

export interface Triangle {
  node: Node;
  material: Material | null;
  /** Three world-space vertices. */
  a: [number, number, number];
  b: [number, number, number];
  c: [number, number, number];
  /** With `{ uv: true }`, when the material has a base colour texture: the corners' coordinates in it. */
  uv?: [[number, number], [number, number], [number, number]];
}

function transform(m: number[], x: number, y: number, z: number): [number, number, number] {
  return [m[0]! * x + m[4]! * y + m[8]! * z + m[12]!, m[1]! * x + m[5]! * y + m[9]! * z + m[13]!, m[2]! * x + m[6]! * y + m[10]! * z + m[14]!];
}

/** Calls `visit` for each mesh node of the default scene with its world matrix. */
export function eachMeshNode(doc: Document, visit: (node: Node, world: number[]) => void): void {
  const scene = doc.getRoot().getDefaultScene() ?? doc.getRoot().listScenes()[0];
  if (!scene) return;
  scene.traverse((node) => {
    if (node.getMesh()) visit(node, node.getWorldMatrix() as unknown as number[]);
  });
}

/** Every triangle of the default scene, in world space (points and lines are left out). */
export function* triangles(doc: Document, options: { uv?: boolean } = {}): Generator<Triangle> {
  const list: { node: Node; world: number[] }[] = [];
  eachMeshNode(doc, (node, world) => list.push({ node, world }));
  for (const { node, world } of list) {
    for (const prim of node.getMesh()!.listPrimitives()) {
      if (prim.getMode() !== 4) continue; // TRIANGLES
      const pos = prim.getAttribute('POSITION');
      if (!pos) continue;
      const idx = prim.getIndices();
      const count = idx ? idx.getCount() : pos.getCount();
      const p = [0, 0, 0];
      const at = (i: number): [number, number, number] => {
        pos.getElement(idx ? idx.getScalar(i) : i, p);
        return transform(world, p[0]!, p[1]!, p[2]!);
      };
      const material = prim.getMaterial();
      const info = options.uv && material?.getBaseColorTexture() ? material.getBaseColorTextureInfo() : null;
      const uvs = info ? prim.getAttribute(`TEXCOORD_${info.getTexCoord()}`) : null;
      const uvAt = (i: number): [number, number] => uvs!.getElement(idx ? idx.getScalar(i) : i, [0, 0]) as [number, number];
      for (let i = 0; i + 2 < count; i += 3) {
        yield { node, material, a: at(i), b: at(i + 1), c: at(i + 2), ...(uvs ? { uv: [uvAt(i), uvAt(i + 1), uvAt(i + 2)] } : {}) };
      }
    }
  }
}
