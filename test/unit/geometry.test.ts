// The 3D library: formats read and written faithfully, metadata that states facts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import {
  addMesh,
  colorMaterial,
  computeMetadata,
  countTriangles as count,
  createDocument,
  decimate,
  loadModel,
  renderView,
  saveModel,
  UPSTREAM_VIEWS,
  writeStl,
} from '../../src/geometry';
import { assembly, cube } from '../helpers/models';

const validator = require('gltf-validator') as { validateBytes(data: Uint8Array, options?: object): Promise<{ issues: { numErrors: number; messages: unknown[] } }> };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-geometry-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string) => path.join(dir, name);

async function facts(p: string) {
  const m = await loadModel(p);
  const meta = computeMetadata(m.document, m);
  return { vertices: meta.mesh_vertex_count, triangles: meta.polygon_count, bbox: meta.bbox!, meta };
}

function expectClose(a: number[], b: number[]) {
  a.forEach((x, i) => expect(Math.abs(x - b[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(b[i]!))));
}

describe('the geometry library', () => {
  it('writes GLB that the Khronos validator accepts, and reads back its facts', async () => {
    await saveModel(assembly(), file('assembly.glb'));
    const report = await validator.validateBytes(new Uint8Array(fs.readFileSync(file('assembly.glb'))));
    expect(report.issues.numErrors, JSON.stringify(report.issues.messages)).toBe(0);
    const { meta } = await facts(file('assembly.glb'));
    expect(meta).toMatchObject({
      part_count: 2,
      material_count: 2,
      mesh_vertex_count: 16,
      polygon_count: 24,
      mesh_edge_count: 36, // 18 edges per cube (12 + 6 diagonals)
      animation_count: 0,
      brep_body_count: null,
      units: 'm',
      format: 'glb',
    });
    expect(meta.bbox).toEqual({ min: [-0.5, -0.5, -0.5], max: [2.25, 0.5, 0.5] });
    expect(Number(meta.aabb)).toBeCloseTo(Math.hypot(2.75, 1, 1), 6);
    expect(meta.materials.map((m) => m.name)).toEqual(['red', 'blue']);
    expect(meta.nodes).toEqual([
      { name: 'body', triangles: 12, children: [] },
      { name: 'group', triangles: 0, children: [{ name: 'wheel', triangles: 12, children: [] }] },
    ]);
  });

  it('keeps vertices, triangles and bounds through glb → obj → glb and glb → stl → glb', async () => {
    await saveModel(assembly(), file('a.glb'));
    const original = await facts(file('a.glb'));
    for (const via of ['obj', 'stl', 'gltf', 'ply']) {
      await saveModel((await loadModel(file('a.glb'))).document, file(`a.${via}`));
      await saveModel((await loadModel(file(`a.${via}`))).document, file(`back-${via}.glb`));
      const back = await facts(file(`back-${via}.glb`));
      expect(back.triangles, via).toBe(original.triangles);
      expect(back.vertices, via).toBe(original.vertices);
      expectClose([...back.bbox.min, ...back.bbox.max], [...original.bbox.min, ...original.bbox.max]);
    }
    // OBJ keeps the parts and their colours.
    const obj = await facts(file('a.obj'));
    expect(obj.meta.part_count).toBe(2);
    expect(obj.meta.materials.map((m) => [m.name, m.baseColor])).toEqual([
      ['red', [1, 0, 0, 1]],
      ['blue', [0, 0, 1, 1]],
    ]);
  });

  it('reads a binary STL whose header begins with "solid", and ASCII STL', async () => {
    const binary = writeStl(assembly());
    binary.write('solid but actually binary', 0, 'ascii');
    fs.writeFileSync(file('tricky.stl'), binary);
    expect((await facts(file('tricky.stl'))).triangles).toBe(24);
    fs.writeFileSync(
      file('ascii.stl'),
      'solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 1 0\nendloop\nendfacet\nendsolid t\n',
    );
    const ascii = await facts(file('ascii.stl'));
    expect(ascii).toMatchObject({ triangles: 1, vertices: 3, bbox: { min: [0, 0, 0], max: [1, 1, 0] } });
    expect(ascii.meta.units).toBeNull();
  });

  it('reads ASCII PLY with polygons, and refuses faces that point nowhere', async () => {
    fs.writeFileSync(
      file('quad.ply'),
      'ply\nformat ascii 1.0\nelement vertex 4\nproperty float x\nproperty float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n1 1 0\n0 1 0\n4 0 1 2 3\n',
    );
    expect(await facts(file('quad.ply'))).toMatchObject({ triangles: 2, vertices: 4, bbox: { min: [0, 0, 0], max: [1, 1, 0] } });
    fs.writeFileSync(file('bad.ply'), 'ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n3 0 1 2\n');
    await expect(loadModel(file('bad.ply'))).rejects.toThrow("'bad.ply' has a face that refers to a vertex it does not have");
  });

  it('refuses what it cannot read or write, saying why', async () => {
    fs.writeFileSync(file('empty.obj'), '# nothing\nv 0 0 0\n');
    await expect(loadModel(file('empty.obj'))).rejects.toThrow("'empty.obj' holds no triangles");
    fs.writeFileSync(file('model.xyz'), 'x');
    await expect(loadModel(file('model.xyz'))).rejects.toThrow(/^'model.xyz': the format '.xyz' is not supported; supported inputs: .glb, .gltf, .obj, .stl, .ply, .step/);
    fs.writeFileSync(file('broken.glb'), 'glTF not really');
    await expect(loadModel(file('broken.glb'))).rejects.toThrow(/'broken.glb' could not be read as .glb/);
    fs.writeFileSync(file('bad.obj'), 'v 0 0 0\nf 1 2 3\n');
    await expect(loadModel(file('bad.obj'))).rejects.toThrow("'bad.obj' line 2: face refers to vertex 2, which does not exist");
    await expect(saveModel(assembly(), file('out.pxz'))).rejects.toThrow("the output format 'pxz' is not supported (.pxz is the proprietary Pixyz format)");
  });
});

describe('thumbnails', () => {

  function cubeDoc() {
    const doc = createDocument();
    addMesh(doc, { name: 'cube', ...cube(), material: colorMaterial(doc, 'grey', [0.5, 0.5, 0.5, 1]) });
    return doc;
  }

  /** Bounds of the drawn (non-transparent) pixels, and how many there are. */
  function drawn(png: Buffer) {
    const img = PNG.sync.read(png);
    let minX = Infinity, minY = Infinity, maxX = -1, maxY = -1, n = 0;
    for (let y = 0; y < img.height; y++)
      for (let x = 0; x < img.width; x++)
        if (img.data[(y * img.width + x) * 4 + 3]! > 127) {
          n++;
          minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y);
        }
    return { minX, maxX, minY, maxY, n, width: img.width, height: img.height };
  }

  it('draws a cube seen face-on as a centred, filled square', () => {
    const d = drawn(renderView(cubeDoc(), UPSTREAM_VIEWS.find((v) => v.name === 'x')!, 256, 256));
    const w = d.maxX - d.minX + 1;
    const h = d.maxY - d.minY + 1;
    expect(Math.abs(w - h)).toBeLessThanOrEqual(1);
    expect(Math.abs(d.minX - (d.width - 1 - d.maxX))).toBeLessThanOrEqual(1);
    expect(Math.abs(d.minY - (d.height - 1 - d.maxY))).toBeLessThanOrEqual(1);
    expect(w).toBeGreaterThan(64); // fitted to the view, not a speck
    expect(d.n / (w * h)).toBeGreaterThan(0.98); // a filled square, not an outline
  });

  it('centres every view of a lopsided model on what it shows, filling the frame', () => {
    // An L of three cubes: its silhouette is centred on its bounding box in no view.
    const doc = createDocument();
    const grey = colorMaterial(doc, 'grey', [0.5, 0.5, 0.5, 1]);
    for (const [i, c] of ([[0, 0, 0], [2, 0, 0], [2, 2, 0]] as const).entries()) addMesh(doc, { name: `c${i}`, ...cube([...c]), material: grey });
    for (const view of UPSTREAM_VIEWS) {
      const d = drawn(renderView(doc, view, 200, 150));
      expect(Math.abs(d.minX - (d.width - 1 - d.maxX)), `${view.name}: left vs right margin`).toBeLessThanOrEqual(2);
      expect(Math.abs(d.minY - (d.height - 1 - d.maxY)), `${view.name}: top vs bottom margin`).toBeLessThanOrEqual(2);
      const fill = Math.max((d.maxX - d.minX + 1) / d.width, (d.maxY - d.minY + 1) / d.height);
      expect(fill, `${view.name}: share of the frame`).toBeGreaterThan(0.85);
      expect(fill, `${view.name}: a margin left`).toBeLessThan(0.97);
    }
  });

  it('shows a black part’s shape: its lit faces are lighter than its dark ones, none pure black', () => {
    const doc = createDocument();
    addMesh(doc, { name: 'black', ...cube(), material: colorMaterial(doc, 'black', [0, 0, 0, 1]) });
    const png = PNG.sync.read(renderView(doc, UPSTREAM_VIEWS[0]!, 128, 128));
    const greys = new Set<number>();
    for (let i = 0; i < 128 * 128; i++) if (png.data[i * 4 + 3] === 255) greys.add(png.data[i * 4]!);
    expect(Math.min(...greys)).toBeGreaterThan(10);
    expect(Math.max(...greys) - Math.min(...greys)).toBeGreaterThan(6); // its faces tell apart
  });

  it('renders every view, not blank, and the same bytes every time', () => {
    for (const view of UPSTREAM_VIEWS) {
      const a = renderView(assembly(), view, 128, 96);
      const b = renderView(assembly(), view, 128, 96);
      expect(a.equals(b), view.name).toBe(true);
      const d = drawn(a);
      expect([d.width, d.height]).toEqual([128, 96]);
      expect(d.n, view.name).toBeGreaterThan(200);
    }
  });

  it('decimates a preview to its triangle budget', async () => {
    const doc = createDocument();
    // A 100×100 grid: 19,602 triangles.
    const n = 100;
    const positions: number[] = [];
    const indices: number[] = [];
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) positions.push(x / n, y / n, Math.sin(x / 7) * Math.cos(y / 9) * 0.05);
    for (let y = 0; y < n - 1; y++) for (let x = 0; x < n - 1; x++) {
      const i = y * n + x;
      indices.push(i, i + 1, i + n, i + 1, i + n + 1, i + n);
    }
    addMesh(doc, { name: 'grid', positions: Float32Array.from(positions), indices: Uint32Array.from(indices) });
    expect(count(doc)).toBe(19602);
    const after = await decimate(doc, 2000);
    expect(after).toBeLessThanOrEqual(2000 * 1.1);
    expect(after).toBeGreaterThan(100);
  });
});

describe('CAD through OpenCascade', () => {
  // Sample files that ship with the occt-import-js package (its test files; source.txt beside each).
  const samples = path.join(path.dirname(require.resolve('occt-import-js/package.json')), 'test', 'testfiles');
  const cubeStep = path.join(samples, 'cube-10x10mm', 'Cube 10x10.stp');
  const cubeIges = path.join(samples, 'cube-10x10mm', 'Cube 10x10.igs');

  it('reads a STEP cube in its own millimetres, with its B-rep faces', async () => {
    const { meta } = await facts(cubeStep);
    expect(meta).toMatchObject({ units: 'mm', format: 'stp', polygon_count: 12, brep_body_count: 1, brep_face_count: 6, part_count: 1 });
    const size = meta.bbox!.max.map((x, i) => x - meta.bbox!.min[i]!);
    expectClose(size, [10, 10, 10]);
  });

  it('writes glTF in metres (×0.001) and STL in the source millimetres', async () => {
    const model = await loadModel(cubeStep);
    await saveModel(model.document, file('cube.glb'), { units: model.units });
    await saveModel(model.document, file('cube.stl'), { units: model.units });
    const glbSize = (await facts(file('cube.glb'))).bbox;
    expectClose(glbSize.max.map((x, i) => x - glbSize.min[i]!), [0.01, 0.01, 0.01]);
    const stlSize = (await facts(file('cube.stl'))).bbox;
    expectClose(stlSize.max.map((x, i) => x - stlSize.min[i]!), [10, 10, 10]);
    const report = await validator.validateBytes(new Uint8Array(fs.readFileSync(file('cube.glb'))));
    expect(report.issues.numErrors).toBe(0);
  });

  it('reads IGES, and refuses a file that is not STEP', async () => {
    expect((await facts(cubeIges)).triangles).toBeGreaterThanOrEqual(12);
    fs.writeFileSync(file('fake.step'), 'not a step file');
    await expect(loadModel(file('fake.step'))).rejects.toThrow("'fake.step' is not a STEP file (no ISO-10303-21 header)");
  });
});
