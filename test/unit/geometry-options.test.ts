// The processes' optional model settings: glTF compression, weld, simplify, CAD tessellation
// quality; and outputs written whole or not at all.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addMesh, computeMetadata, countTriangles, createDocument, loadModel, modelParams, optimize, saveModel } from '../../src/geometry';
import { glbJson as readGlbJson } from '../../src/geometry/gltf';
import { assembly, cube, wavyGrid } from '../helpers/models';
import { PNG } from 'pngjs';

const validator = require('gltf-validator') as { validateBytes(data: Uint8Array): Promise<{ issues: { numErrors: number; messages: unknown[] } }> };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-geometry-options-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string) => path.join(dir, name);
const STEP = path.join(__dirname, '../../node_modules/occt-import-js/test/testfiles/rounded-cube/rounded-cube.step');

/** The JSON chunk of a GLB file. */
const glbJson = (p: string) => readGlbJson(fs.readFileSync(p)) as { extensionsUsed?: string[]; extensionsRequired?: string[] };

describe('glTF compression', () => {
  it.each(['draco', 'meshopt'] as const)('%s: valid, smaller, and reads back with the same triangles and bounds', async (compression) => {
    const plain = file(`grid-plain-${compression}.glb`);
    const packed = file(`grid-${compression}.glb`);
    await saveModel(wavyGrid(20_000), plain);
    await saveModel(wavyGrid(20_000), packed, { compression });
    const ext = compression === 'draco' ? 'KHR_draco_mesh_compression' : 'EXT_meshopt_compression';
    expect(glbJson(packed).extensionsRequired).toContain(ext);
    expect(glbJson(plain).extensionsUsed ?? []).not.toContain(ext);
    const report = await validator.validateBytes(new Uint8Array(fs.readFileSync(packed)));
    expect(report.issues.numErrors, JSON.stringify(report.issues.messages)).toBe(0);
    expect(fs.statSync(packed).size).toBeLessThan(fs.statSync(plain).size * 0.6);

    const [a, b] = await Promise.all([loadModel(plain), loadModel(packed)]);
    const [ma, mb] = [computeMetadata(a.document, a), computeMetadata(b.document, b)];
    expect(mb.polygon_count).toBe(ma.polygon_count);
    // Quantized positions: within 1/1000 of the model's size.
    for (const k of ['min', 'max'] as const) mb.bbox![k].forEach((x, i) => expect(Math.abs(x - ma.bbox![k][i]!)).toBeLessThan(1e-3));
  });

  it('a compressed input is written plain unless asked again', async () => {
    await saveModel(assembly(), file('draco.glb'), { compression: 'draco' });
    const m = await loadModel(file('draco.glb'));
    await saveModel(m.document, file('again.glb'));
    expect(glbJson(file('again.glb')).extensionsUsed ?? []).not.toContain('KHR_draco_mesh_compression');
    expect(countTriangles((await loadModel(file('again.glb'))).document)).toBe(24);
  });

  it('is refused for formats that cannot carry it', async () => {
    await expect(saveModel(assembly(), file('x.obj'), { compression: 'draco' })).rejects.toThrow('compression (draco) applies to glb and gltf outputs, not .obj');
    expect(fs.existsSync(file('x.obj'))).toBe(false);
  });
});

describe('weld and simplify', () => {
  it('weld merges the repeated corners of a triangle soup', async () => {
    const { positions, indices } = cube();
    const soup = createDocument();
    addMesh(soup, { name: 'soup', positions: Float32Array.from([...indices].flatMap((i) => [...positions.subarray(i * 3, i * 3 + 3)])) });
    const source = { format: 'glb', units: null, bytes: 0 };
    expect(computeMetadata(soup, source).mesh_vertex_count).toBe(36); // each triangle has its own three corners
    await optimize(soup, { weld: true });
    expect(computeMetadata(soup, source)).toMatchObject({ mesh_vertex_count: 8, polygon_count: 12 });
  });

  it('simplify keeps about the asked fraction of triangles and the shape', async () => {
    const doc = wavyGrid(20_000);
    const before = countTriangles(doc);
    const after = await optimize(doc, { simplify: 0.25 });
    expect(after).toBeGreaterThan(before * 0.05);
    expect(after).toBeLessThanOrEqual(Math.ceil(before * 0.25));
    const meta = computeMetadata(doc, { format: 'glb', units: null, bytes: 0 });
    expect(meta.bbox!.min[0]).toBeCloseTo(0, 3);
    expect(meta.bbox!.max[0]).toBeGreaterThan(0.95);
  });
});

describe('CAD tessellation quality', () => {
  it('finer deflections give more triangles, coarser fewer', async () => {
    const base = countTriangles((await loadModel(STEP)).document);
    const fine = countTriangles((await loadModel(STEP, { angularDeflection: 5 })).document);
    const coarse = countTriangles((await loadModel(STEP, { linearDeflection: 1 })).document);
    expect(fine).toBeGreaterThan(base * 1.5);
    expect(coarse).toBeLessThan(base);
  });

  it('refuses settings that are not positive numbers', async () => {
    await expect(loadModel(STEP, { linearDeflection: -1 })).rejects.toThrow('linearDeflection must be a positive number, not -1');
    await expect(loadModel(STEP, { angularDeflection: 360 })).rejects.toThrow('angularDeflection is in degrees and at most 180');
  });
});

describe('the processes’ params', () => {
  it('are read with their defaults and refused when wrong', () => {
    expect(modelParams({})).toEqual({ load: {}, optimize: { weld: false }, compression: null });
    expect(modelParams({ linear_deflection: '0.1', angular_deflection: 10, weld: true, simplify: 0.5, compression: 'meshopt' })).toEqual({
      load: { linearDeflection: 0.1, angularDeflection: 10 },
      optimize: { weld: true, simplify: 0.5 },
      compression: 'meshopt',
    });
    expect(() => modelParams({ simplify: 2 })).toThrow("param 'simplify' must be a number above 0 and at most 1, not 2");
    expect(() => modelParams({ compression: 'zip' })).toThrow("param 'compression' must be one of draco, meshopt");
    expect(() => modelParams({ weld: 'yes' })).toThrow("param 'weld' must be true or false");
    expect(() => modelParams({ linear_deflection: 'fine' })).toThrow("param 'linear_deflection' must be a number above 0");
    expect(modelParams({ previewTriangles: 1000 }).previewTriangles).toBe(1000);
    expect(() => modelParams({ previewTriangles: 0 })).toThrow("param 'previewTriangles' must be a number above 0");
    expect(() => modelParams({ previewTriangles: 2.5 })).toThrow("param 'previewTriangles' must be a whole number, not 2.5");
  });
});

describe('writing outputs', () => {
  it('leaves nothing behind when one of a model’s files cannot be written', async () => {
    const out = fs.mkdtempSync(path.join(dir, 'out-'));
    fs.mkdirSync(path.join(out, 'model.bin', 'taken'), { recursive: true }); // the .bin's place is a folder
    await expect(saveModel(assembly(), path.join(out, 'model.gltf'))).rejects.toThrow();
    expect(fs.readdirSync(out)).toEqual(['model.bin']);
    expect(fs.readdirSync(path.join(out, 'model.bin'))).toEqual(['taken']);
  });
});

describe('a .gltf’s own files', () => {
  it('are read from its folder; one outside it, on the network or missing is refused by name', async () => {
    const out = fs.mkdtempSync(path.join(dir, 'gltf-'));
    await saveModel(assembly(), path.join(out, 'model.gltf'));
    expect(countTriangles((await loadModel(path.join(out, 'model.gltf'))).document)).toBe(24);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'model.gltf'), 'utf8'));
    for (const [uri, message] of [
      ['../../etc/passwd', "refers to '../../etc/passwd', outside its folder"],
      ['https://example.com/model.bin', "refers to 'https://example.com/model.bin', outside its folder"],
      ['gone.bin', "refers to 'gone.bin', which is not beside it"],
    ]) {
      json.buffers[0].uri = uri;
      fs.writeFileSync(path.join(out, 'bad.gltf'), JSON.stringify(json));
      await expect(loadModel(path.join(out, 'bad.gltf'))).rejects.toThrow(message);
    }
  });
});

describe('saving leaves the model as it was', () => {
  it('a compressed save does not change the document a second save writes', async () => {
    const doc = assembly();
    const out = fs.mkdtempSync(path.join(dir, 'twice-'));
    const obj = async (name: string) => {
      fs.mkdirSync(path.join(out, name));
      await saveModel(doc, path.join(out, name, 'model.obj'));
      return fs.readFileSync(path.join(out, name, 'model.obj'), 'utf8');
    };
    const before = await obj('before');
    await saveModel(doc, path.join(out, 'packed.glb'), { compression: 'meshopt' });
    await saveModel(doc, path.join(out, 'packed-draco.glb'), { compression: 'draco', units: 'mm' });
    expect(await obj('after')).toBe(before);
    await saveModel(doc, path.join(out, 'plain.glb'));
    expect(glbJson(path.join(out, 'plain.glb')).extensionsUsed ?? []).toEqual([]);
  });

  it('a .gltf output names its .bin after itself and keeps two textures of the same name apart', async () => {
    const doc = assembly();
    const [red, blue] = doc.getRoot().listMaterials();
    const png = (value: number) => {
      const p = new PNG({ width: 1, height: 1 });
      p.data.set([value, 0, 0, 255]);
      return PNG.sync.write(p);
    };
    red!.setBaseColorTexture(doc.createTexture('a').setImage(png(10)).setMimeType('image/png').setURI('a/wood.png'));
    blue!.setBaseColorTexture(doc.createTexture('b').setImage(png(20)).setMimeType('image/png').setURI('b/wood.png'));
    const out = fs.mkdtempSync(path.join(dir, 'named-'));
    const files = await saveModel(doc, path.join(out, 'output.gltf'));
    expect(files.map((f) => path.basename(f)).sort()).toEqual(['output.bin', 'output.gltf', 'wood.png', 'wood_2.png']);
    expect(PNG.sync.read(fs.readFileSync(path.join(out, 'wood.png'))).data[0]).toBe(10);
    expect(PNG.sync.read(fs.readFileSync(path.join(out, 'wood_2.png'))).data[0]).toBe(20);
    // And the caller's document still has its own names.
    expect(doc.getRoot().listTextures().map((t) => t.getURI())).toEqual(['a/wood.png', 'b/wood.png']);
  });

  it('a model of several buffers is written as one GLB', async () => {
    const doc = assembly();
    const second = doc.createBuffer('second');
    for (const accessor of doc.getRoot().listAccessors().slice(0, 2)) accessor.setBuffer(second);
    const out = fs.mkdtempSync(path.join(dir, 'buffers-'));
    await saveModel(doc, path.join(out, 'one.glb'));
    expect(countTriangles((await loadModel(path.join(out, 'one.glb'))).document)).toBe(24);
  });
});

describe('a GLB’s external files', () => {
  it('are refused when they lie outside its folder', async () => {
    const out = fs.mkdtempSync(path.join(dir, 'glb-uri-'));
    fs.writeFileSync(path.join(dir, 'secret.txt'), 'secret');
    const doc = assembly();
    doc.getRoot().listMaterials()[0]!.setBaseColorTexture(doc.createTexture('t').setImage(new Uint8Array([1])).setMimeType('image/png').setURI('x.png'));
    await saveModel(doc, path.join(out, 'model.glb'));
    // Point the (embedded) image at a file two folders up instead.
    const data = fs.readFileSync(path.join(out, 'model.glb'));
    const json = glbJson(path.join(out, 'model.glb')) as { images: { uri?: string; bufferView?: number; mimeType?: string }[] };
    json.images = [{ uri: '../secret.txt' }];
    const text = Buffer.from(JSON.stringify(json).padEnd(Math.ceil(JSON.stringify(json).length / 4) * 4, ' '));
    const bin = data.subarray(20 + data.readUInt32LE(12));
    const header = Buffer.alloc(20);
    header.writeUInt32LE(0x46546c67, 0);
    header.writeUInt32LE(2, 4);
    header.writeUInt32LE(20 + text.length + bin.length, 8);
    header.writeUInt32LE(text.length, 12);
    header.writeUInt32LE(0x4e4f534a, 16);
    fs.writeFileSync(path.join(out, 'evil.glb'), Buffer.concat([header, text, bin]));
    await expect(loadModel(path.join(out, 'evil.glb'))).rejects.toThrow("'evil.glb' refers to '../secret.txt', outside its folder");
  });
});

describe('a STEP assembly split over files', () => {
  it('is refused, naming the files it needs, never read partially', async () => {
    const parts = path.join(__dirname, '../../node_modules/occt-import-js/test/testfiles/cax-if/s1_pe_214');
    await expect(loadModel(path.join(parts, 'foot_asm.stp'))).rejects.toThrow(
      "'foot_asm.stp' is an assembly whose parts are in other files (foot_back_prt.stp, foot_front_prt.stp); send one STEP file that holds the whole assembly",
    );
    await expect(loadModel(path.join(parts, 's1_pe_214.stp'))).rejects.toThrow('(mainbody_asm.stp, head_asm.stp, tail_asm.stp, foot_asm.stp)');
    expect(countTriangles((await loadModel(path.join(parts, 'foot_back_prt.stp'))).document)).toBeGreaterThan(0); // a part alone reads
  });
});
