import { addMesh, colorMaterial, createDocument, type Document } from '../../src/geometry';

/** A unit cube's 8 corners and 12 triangles, centred on `c` with side `s`. */
export function cube(c: [number, number, number] = [0, 0, 0], s = 1): { positions: Float32Array; indices: Uint32Array } {
  const h = s / 2;
  const positions: number[] = [];
  for (const x of [-h, h]) for (const y of [-h, h]) for (const z of [-h, h]) positions.push(c[0] + x, c[1] + y, c[2] + z);
  // corner index = xi*4 + yi*2 + zi
  const quads = [
    [0, 1, 3, 2], // x-
    [4, 6, 7, 5], // x+
    [0, 4, 5, 1], // y-
    [2, 3, 7, 6], // y+
    [0, 2, 6, 4], // z-
    [1, 5, 7, 3], // z+
  ];
  const indices = quads.flatMap(([a, b, c2, d]) => [a!, b!, c2!, a!, c2!, d!]);
  return { positions: Float32Array.from(positions), indices: Uint32Array.from(indices) };
}

/** Two parts, two materials: a red unit cube at the origin and a blue half cube beside it under a moved parent. */
export function assembly(): Document {
  const doc = createDocument();
  addMesh(doc, { name: 'body', ...cube(), material: colorMaterial(doc, 'red', [1, 0, 0, 1]) });
  const group = doc.createNode('group').setTranslation([2, 0, 0]);
  doc.getRoot().getDefaultScene()!.addChild(group);
  addMesh(doc, { name: 'wheel', ...cube([0, 0, 0], 0.5), material: colorMaterial(doc, 'blue', [0, 0, 1, 1]) }, group);
  return doc;
}

/** A wavy square grid of about `triangles` triangles (one mesh, 1 × 1 with ±0.05 waves). */
export function wavyGrid(triangles: number): Document {
  const n = Math.ceil(Math.sqrt(triangles / 2)) + 1;
  const positions = new Float32Array(n * n * 3);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) positions.set([x / n, y / n, Math.sin(x / 9) * Math.cos(y / 7) * 0.05], (y * n + x) * 3);
  const indices: number[] = [];
  for (let y = 0; y < n - 1; y++) {
    for (let x = 0; x < n - 1; x++) {
      const i = y * n + x;
      indices.push(i, i + 1, i + n, i + 1, i + n + 1, i + n);
    }
  }
  const doc = createDocument();
  addMesh(doc, { name: 'grid', positions, indices: Uint32Array.from(indices) });
  return doc;
}
