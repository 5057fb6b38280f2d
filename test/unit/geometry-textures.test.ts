// Textures travel with the model: OBJ + MTL + PNG in, glTF/GLB/OBJ out, and back.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel, renderView, saveModel, UPSTREAM_VIEWS, type Document } from '../../src/geometry';

const validator = require('gltf-validator') as { validateBytes(data: Uint8Array): Promise<{ issues: { numErrors: number; messages: unknown[] } }> };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-textures-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A 4×4 PNG, red on the left half, green on the right. */
function checker(): Buffer {
  const png = new PNG({ width: 4, height: 4 });
  for (let i = 0; i < 16; i++) png.data.set(i % 4 < 2 ? [255, 0, 0, 255] : [0, 255, 0, 255], i * 4);
  return PNG.sync.write(png);
}

/** A textured quad: OBJ with vt, an MTL with map_Kd in a sub-folder, the PNG beside the MTL. */
function texturedObj(folder: string): string {
  fs.mkdirSync(path.join(folder, 'materials'), { recursive: true });
  fs.writeFileSync(path.join(folder, 'materials', 'wood.png'), checker());
  fs.writeFileSync(path.join(folder, 'materials', 'quad.mtl'), 'newmtl wood\nKd 1 1 1\nmap_Kd -s 1 1 1 wood.png\n');
  const obj = ['mtllib materials/quad.mtl', 'o quad', 'v 0 0 0', 'v 1 0 0', 'v 1 1 0', 'v 0 1 0', 'vt 0 0', 'vt 1 0', 'vt 1 1', 'vt 0 1', 'usemtl wood', 'f 1/1 2/2 3/3 4/4'];
  fs.writeFileSync(path.join(folder, 'quad.obj'), `${obj.join('\n')}\n`);
  return path.join(folder, 'quad.obj');
}

function texturing(doc: Document) {
  const prim = doc.getRoot().listMeshes()[0]!.listPrimitives()[0]!;
  const texture = prim.getMaterial()?.getBaseColorTexture() ?? null;
  const uv = prim.getAttribute('TEXCOORD_0');
  const pos = prim.getAttribute('POSITION')!;
  // Each corner's texture coordinate, by its position, so that vertex order does not matter.
  const corners = new Map<string, number[]>();
  for (let i = 0; i < pos.getCount(); i++) corners.set(pos.getElement(i, []).map((x) => Math.round(x * 1000) / 1000).join(','), uv ? uv.getElement(i, []) : []);
  return { mimeType: texture?.getMimeType(), image: texture?.getImage(), corners: Object.fromEntries([...corners].sort()) };
}

// glTF's texture origin is the top left: OBJ's v becomes 1 - v.
const CORNERS = { '0,0,0': [0, 1], '0,1,0': [0, 0], '1,0,0': [1, 1], '1,1,0': [1, 0] };

describe('textures', () => {
  it('an OBJ’s map_Kd and vt become a glTF base colour texture and TEXCOORD_0', async () => {
    const m = await loadModel(texturedObj(path.join(dir, 'in')));
    const t = texturing(m.document);
    expect(t.mimeType).toBe('image/png');
    expect(Buffer.from(t.image!).equals(checker())).toBe(true);
    expect(t.corners).toEqual(CORNERS);
  });

  it('survives OBJ → GLB → OBJ → glTF, every glTF valid, the texture written beside the OBJ and the glTF', async () => {
    const m = await loadModel(texturedObj(path.join(dir, 'trip')));
    const out = fs.mkdtempSync(path.join(dir, 'out-'));
    await saveModel(m.document, path.join(out, 'a.glb'));
    const report = await validator.validateBytes(new Uint8Array(fs.readFileSync(path.join(out, 'a.glb'))));
    expect(report.issues.numErrors, JSON.stringify(report.issues.messages)).toBe(0);

    const glb = await loadModel(path.join(out, 'a.glb'));
    expect(texturing(glb.document).corners).toEqual(CORNERS);
    const written = await saveModel(glb.document, path.join(out, 'b.obj'));
    expect(written.map((f) => path.basename(f))).toEqual(['b.obj', 'b.mtl', 'b_texture0.png']);
    expect(fs.readFileSync(path.join(out, 'b.mtl'), 'utf8')).toContain('map_Kd b_texture0.png');

    const back = await loadModel(path.join(out, 'b.obj'));
    const t = texturing(back.document);
    expect(t.corners).toEqual(CORNERS);
    expect(Buffer.from(t.image!).equals(checker())).toBe(true);

    const files = await saveModel(back.document, path.join(out, 'c.gltf'));
    expect(files.map((f) => path.basename(f)).sort()).toEqual(['c.bin', 'c.gltf', 'b_texture0.png'].sort());
    const json = JSON.parse(fs.readFileSync(path.join(out, 'c.gltf'), 'utf8'));
    expect(json.images).toEqual([expect.objectContaining({ uri: 'b_texture0.png', mimeType: 'image/png' })]);
  });

  it('thumbnails show the texture: the quad seen face-on is red on its left half, green on its right', async () => {
    const m = await loadModel(texturedObj(path.join(dir, 'render')));
    const png = PNG.sync.read(renderView(m.document, UPSTREAM_VIEWS.find((v) => v.name === 'x')!, 64, 64));
    const at = (x: number, y: number) => [...png.data.subarray((y * 64 + x) * 4, (y * 64 + x) * 4 + 4)];
    const [left, right] = [at(26, 32), at(38, 32)];
    expect(left[3]).toBe(255);
    expect(left[0]).toBeGreaterThan(100);
    expect(left[1]).toBe(0);
    expect(right[1]).toBeGreaterThan(100);
    expect(right[0]).toBe(0);
  });

  it('a missing texture leaves the material its colour, and a texture outside the model’s folder is not read', async () => {
    const folder = path.join(dir, 'missing');
    texturedObj(folder);
    fs.writeFileSync(path.join(dir, 'secret.png'), checker());
    fs.writeFileSync(path.join(folder, 'materials', 'quad.mtl'), 'newmtl wood\nKd 0.5 0.5 0.5\nmap_Kd ../../secret.png\n');
    const m = await loadModel(path.join(folder, 'quad.obj'));
    const material = m.document.getRoot().listMaterials()[0]!;
    expect(material.getBaseColorTexture()).toBeNull();
    expect(material.getBaseColorFactor()).toEqual([0.5, 0.5, 0.5, 1]);
  });
});

describe('MTL details', () => {
  it('reads map_Kd options and names with spaces, several libraries on one mtllib line, and keeps same-named materials apart', async () => {
    const folder = fs.mkdtempSync(path.join(dir, 'mtl-'));
    fs.writeFileSync(path.join(folder, 'my wood.png'), checker());
    fs.writeFileSync(path.join(folder, 'a.mtl'), 'newmtl wood\nKd 1 1 1\nmap_Kd -s 1 1 1 -clamp on my wood.png\n');
    fs.writeFileSync(path.join(folder, 'b.mtl'), 'newmtl paint\nKd 0 0 1\n');
    const obj = ['mtllib a.mtl b.mtl', 'v 0 0 0', 'v 1 0 0', 'v 0 1 0', 'vt 0 0', 'vt 1 0', 'vt 0 1', 'usemtl wood', 'f 1/1 2/2 3/3', 'usemtl paint', 'f 1 3 2'];
    fs.writeFileSync(path.join(folder, 'm.obj'), obj.join('\n'));
    const m = await loadModel(path.join(folder, 'm.obj'));
    const [wood, paint] = m.document.getRoot().listMaterials();
    expect(wood!.getBaseColorTexture()?.getURI()).toBe('my wood.png');
    expect(paint!.getBaseColorFactor()).toEqual([0, 0, 1, 1]);

    paint!.setName('wood'); // two materials of one name
    const out = fs.mkdtempSync(path.join(dir, 'mtl-out-'));
    await saveModel(m.document, path.join(out, 'x.obj'));
    const mtl = fs.readFileSync(path.join(out, 'x.mtl'), 'utf8');
    expect(mtl.match(/^newmtl .*$/gm)).toEqual(['newmtl wood', 'newmtl wood_2']);
    const back = await loadModel(path.join(out, 'x.obj'));
    expect(back.document.getRoot().listMaterials().map((x) => x.getBaseColorFactor())).toEqual([[1, 1, 1, 1], [0, 0, 1, 1]]);
  });
});

describe('OBJ normals', () => {
  it('keeps vn as the NORMAL attribute (unit length) and writes them back, turned with their node', async () => {
    const folder = fs.mkdtempSync(path.join(dir, 'vn-'));
    const obj = ['v 0 0 0', 'v 1 0 0', 'v 0 1 0', 'vn 0 0 2', 'vn 0 0 1', 'vn 1 1 1', 'f 1//1 2//2 3//3'];
    fs.writeFileSync(path.join(folder, 'tri.obj'), obj.join('\n'));
    const m = await loadModel(path.join(folder, 'tri.obj'));
    const normal = m.document.getRoot().listMeshes()[0]!.listPrimitives()[0]!.getAttribute('NORMAL')!;
    expect([0, 1, 2].map((i) => normal.getElement(i, []).map((x) => Math.round(x * 1000) / 1000))).toEqual([
      [0, 0, 1],
      [0, 0, 1],
      [0.577, 0.577, 0.577],
    ]);
    await saveModel(m.document, path.join(folder, 'tri.glb'));
    const report = await validator.validateBytes(new Uint8Array(fs.readFileSync(path.join(folder, 'tri.glb'))));
    expect(report.issues.numErrors, JSON.stringify(report.issues.messages)).toBe(0);

    // Under a node turned 90° about x, the normal (0, 0, 1) becomes (0, -1, 0).
    const turned = m.document.getRoot().listNodes()[0]!.setRotation([Math.SQRT1_2, 0, 0, Math.SQRT1_2]);
    expect(turned.getMesh()).not.toBeNull();
    await saveModel(m.document, path.join(folder, 'out.obj'));
    const text = fs.readFileSync(path.join(folder, 'out.obj'), 'utf8');
    expect(text).toContain('vn 0 -1 0');
    expect(text).toMatch(/^f 1\/\/1 2\/\/2 3\/\/3$/m);
    const back = await loadModel(path.join(folder, 'out.obj'));
    expect(back.document.getRoot().listMeshes()[0]!.listPrimitives()[0]!.getAttribute('NORMAL')).not.toBeNull();
  });
});
