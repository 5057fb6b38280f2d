// The processes' optional model settings: glTF compression, weld, simplify, CAD tessellation
// quality; and outputs written whole or not at all.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addMesh, computeMetadata, countTriangles, createDocument, loadModel, modelParams, optimize, saveModel } from '../../src/geometry';
import { assembly, cube, wavyGrid } from '../helpers/models';

const validator = require('gltf-validator') as { validateBytes(data: Uint8Array): Promise<{ issues: { numErrors: number; messages: unknown[] } }> };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-geometry-options-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string) => path.join(dir, name);
const STEP = path.join(__dirname, '../../node_modules/occt-import-js/test/testfiles/rounded-cube/rounded-cube.step');

/** The JSON chunk of a GLB. */
function glbJson(p: string): { extensionsUsed?: string[]; extensionsRequired?: string[] } {
  const data = fs.readFileSync(p);
  return JSON.parse(data.subarray(20, 20 + data.readUInt32LE(12)).toString('utf8'));
}

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
