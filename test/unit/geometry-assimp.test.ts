// FBX, Collada, 3DS, 3MF and OFF through assimp: the parts, names, colours, textures and
// coordinates of fixtures written in code survive, and what cannot be read says which file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { computeMetadata, loadModel, readAssimp, saveModel } from '../../src/geometry';
import {
  ASSEMBLY_FACTS,
  checkerPng,
  colladaAssembly,
  colladaTexturedQuad,
  DAE_EMPTY,
  fbxAssembly,
  fbxEmpty,
  OFF_EMPTY,
  offCube,
  THREE_MF_EMPTY,
  threeDsAssembly,
  threeDsEmpty,
  threeMfAssembly,
  write3mf,
} from '../helpers/assimp-fixtures';

const validator = require('gltf-validator') as { validateBytes(data: Uint8Array, options?: object): Promise<{ issues: { numErrors: number; messages: unknown[] } }> };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-assimp-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Writes a fixture under the test directory (a sub-directory when `name` has one) and returns its path. */
function fixture(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}
function threeMf(name: string, model: string): string {
  const file = path.join(dir, name);
  write3mf(file, model);
  return file;
}

async function facts(file: string) {
  const m = await loadModel(file);
  const meta = computeMetadata(m.document, m);
  return { ...m, meta };
}

function expectBox(actual: { min: number[]; max: number[] } | null, expected: { min: number[]; max: number[] }) {
  expect(actual).not.toBeNull();
  [...actual!.min, ...actual!.max].forEach((x, i) => expect(x).toBeCloseTo([...expected.min, ...expected.max][i]!, 5));
}

/** The GLB the model converts to passes the Khronos validator. */
async function expectValidGlb(file: string) {
  const m = await loadModel(file);
  const out = path.join(dir, `${path.basename(file)}.glb`);
  await saveModel(m.document, out, { units: m.units });
  const report = await validator.validateBytes(new Uint8Array(fs.readFileSync(out)));
  expect(report.issues.numErrors, JSON.stringify(report.issues.messages)).toBe(0);
}

const TREE = [
  { name: 'body', triangles: 12, children: [] },
  { name: 'group', triangles: 0, children: [{ name: 'wheel', triangles: 12, children: [] }] },
];
const RED_BLUE = [
  ['red', [1, 0, 0, 1]],
  ['blue', [0, 0, 1, 1]],
];
const colours = (meta: { materials: { name: string; baseColor: number[] }[] }) => meta.materials.map((m) => [m.name, m.baseColor]).sort((a, b) => String(b[0]).localeCompare(String(a[0])));

describe('OFF', () => {
  it('reads a cube of quads as 12 triangles on 8 vertices, named after the file, without made-up material or unit', async () => {
    const file = fixture('cube.off', offCube());
    const { meta, units } = await facts(file);
    expect(meta).toMatchObject({ polygon_count: 12, mesh_vertex_count: 8, part_count: 1, material_count: 0, units: null, format: 'off' });
    expect(units).toBeNull();
    expectBox(meta.bbox, { min: [-0.5, -0.5, -0.5], max: [0.5, 0.5, 0.5] });
    expect(meta.nodes).toEqual([{ name: 'cube', triangles: 12, children: [] }]);
    await expectValidGlb(file);
  });
});

describe('Collada', () => {
  it('keeps the parts, their names (not their ids), the hierarchy and the colours; the unit is <unit>', async () => {
    const file = fixture('assembly.dae', colladaAssembly({ unit: { name: 'meter', meter: 1 } }));
    const { meta } = await facts(file);
    expect(meta).toMatchObject({ polygon_count: ASSEMBLY_FACTS.triangles, mesh_vertex_count: 16, part_count: 2, units: 'm', format: 'dae' });
    expectBox(meta.bbox, ASSEMBLY_FACTS.bbox);
    expect(meta.nodes).toEqual(TREE);
    expect(colours(meta)).toEqual(RED_BLUE);
    await expectValidGlb(file);
  });

  it('rotates no axis and scales nothing: a Z-up millimetre file keeps its coordinates, in mm', async () => {
    for (const up of ['Z_UP', 'X_UP', 'Y_UP'] as const) {
      const file = fixture(`mm-${up}.dae`, colladaAssembly({ unit: { name: 'millimeter', meter: 0.001 }, up }));
      const { meta } = await facts(file);
      expect(meta.units, up).toBe('mm');
      expectBox(meta.bbox, ASSEMBLY_FACTS.bbox);
      expect(meta.nodes, up).toEqual(TREE);
    }
    // Saved as glTF (metres), the millimetres are scaled, once.
    const m = await loadModel(path.join(dir, 'mm-Z_UP.dae'));
    await saveModel(m.document, path.join(dir, 'mm.glb'), { units: m.units });
    expectBox(computeMetadata((await loadModel(path.join(dir, 'mm.glb'))).document, { format: 'glb', units: 'm', bytes: 0 }).bbox, {
      min: ASSEMBLY_FACTS.bbox.min.map((x) => x / 1000),
      max: ASSEMBLY_FACTS.bbox.max.map((x) => x / 1000),
    });
  });

  it('takes a file without <unit> as metres (Collada’s default) and scales a unit it has no name for to metres', async () => {
    expect((await facts(fixture('no-unit.dae', colladaAssembly()))).units).toBe('m');
    const { meta } = await facts(fixture('decimetre.dae', colladaAssembly({ unit: { name: 'decimetre', meter: 0.1 }, up: 'Z_UP' })));
    expect(meta.units).toBe('m');
    expectBox(meta.bbox, { min: ASSEMBLY_FACTS.bbox.min.map((x) => x / 10), max: ASSEMBLY_FACTS.bbox.max.map((x) => x / 10) });
  });

  it('embeds a PNG texture found beside the file; a missing one, or one outside the directory, is left out', async () => {
    const png = checkerPng();
    fixture('tex/quad.dae', colladaTexturedQuad('checker.png'));
    fixture('tex/checker.png', png);
    const doc = await readAssimp(path.join(dir, 'tex/quad.dae'), 'dae');
    const material = doc.getRoot().listMaterials()[0]!;
    expect(material.getName()).toBe('checker');
    const texture = material.getBaseColorTexture();
    expect(texture?.getMimeType()).toBe('image/png');
    expect(Buffer.from(texture!.getImage()!).equals(png)).toBe(true);
    expect(texture!.getURI()).toBe('checker.png');
    await expectValidGlb(path.join(dir, 'tex/quad.dae'));

    // A path from another machine: found by its base name, in a sub-directory too.
    fixture('tex2/maps/checker.png', png);
    fixture('tex2/quad.dae', colladaTexturedQuad('C:\\Users\\someone\\maps\\checker.png'));
    expect((await readAssimp(path.join(dir, 'tex2/quad.dae'), 'dae')).getRoot().listTextures()).toHaveLength(1);

    fixture('secret.png', png); // beside the directory, not in it
    for (const [name, ref] of [
      ['missing', 'nowhere.png'],
      ['outside', '../secret.png'],
      ['absolute', path.join(dir, 'secret.png')],
    ]) {
      const file = fixture(`tex3/${name}.dae`, colladaTexturedQuad(ref!));
      const m = await loadModel(file);
      expect(m.document.getRoot().listTextures(), name).toHaveLength(0);
      expect(computeMetadata(m.document, m).polygon_count).toBe(2);
      await expectValidGlb(file);
    }
  });
});

describe('3MF', () => {
  it('keeps the objects’ names, the component hierarchy and the base colours; the unit is the model’s', async () => {
    const file = threeMf('assembly.3mf', threeMfAssembly());
    const { meta } = await facts(file);
    expect(meta).toMatchObject({ polygon_count: ASSEMBLY_FACTS.triangles, mesh_vertex_count: 16, part_count: 2, units: 'mm', format: '3mf' });
    expectBox(meta.bbox, ASSEMBLY_FACTS.bbox);
    expect(meta.nodes).toEqual(TREE);
    // #FF0000 has no alpha: opaque, not assimp's transparent.
    expect(colours(meta)).toEqual(RED_BLUE);
    await expectValidGlb(file);
    expect((await facts(threeMf('inch.3mf', threeMfAssembly('inch')))).units).toBe('in');
  });
});

describe('3DS', () => {
  it('keeps the objects’ names (from the keyframer), their colours and coordinates, without assimp’s Z-up rotation', async () => {
    const file = fixture('assembly.3ds', threeDsAssembly());
    const { meta } = await facts(file);
    expect(meta).toMatchObject({ polygon_count: ASSEMBLY_FACTS.triangles, part_count: 2, units: null, format: '3ds' });
    expectBox(meta.bbox, ASSEMBLY_FACTS.bbox);
    expect(meta.nodes).toEqual([
      { name: 'body', triangles: 12, children: [] },
      { name: 'wheel', triangles: 12, children: [] },
    ]);
    expect(colours(meta)).toEqual(RED_BLUE);
    await expectValidGlb(file);
  });
});

describe('FBX', () => {
  for (const encoding of ['ascii', 'binary'] as const) {
    it(`reads ${encoding} FBX 7.4: parts, names, hierarchy, colours, and its unit from UnitScaleFactor`, async () => {
      const file = fixture(`assembly-${encoding}.fbx`, fbxAssembly(encoding, 0.1));
      const { meta } = await facts(file);
      expect(meta).toMatchObject({ polygon_count: ASSEMBLY_FACTS.triangles, mesh_vertex_count: 16, part_count: 2, units: 'mm', format: 'fbx' });
      expectBox(meta.bbox, ASSEMBLY_FACTS.bbox); // not scaled to assimp's or anyone's unit
      expect(meta.nodes).toEqual(TREE);
      expect(colours(meta)).toEqual(RED_BLUE);
      await expectValidGlb(file);
      expect((await facts(fixture(`cm-${encoding}.fbx`, fbxAssembly(encoding, 1)))).units).toBe('cm');
      expect((await facts(fixture(`m-${encoding}.fbx`, fbxAssembly(encoding, 100)))).units).toBe('m');
    });
  }
});

describe('what assimp cannot read', () => {
  const corrupt: Record<string, string | Buffer> = {
    off: 'OFF\n8 6 0\n0 0 zero\n',
    dae: '<?xml version="1.0"?><COLLADA xmlns="http://www.collada.org/2005/11/COLLADASchema" version="1.4.1"><library_geometries><geometry',
    '3mf': Buffer.from('PK\x03\x04 this is not a zip at all'),
    '3ds': Buffer.concat([threeDsAssembly().subarray(0, 40), Buffer.alloc(3, 0xff)]),
    fbx: Buffer.concat([Buffer.from('Kaydara FBX Binary  \0\x1a\0', 'latin1'), Buffer.from([0xe8, 0x1c, 0, 0]), Buffer.alloc(64, 0xab)]),
  };
  const empty: Record<string, () => string> = {
    off: () => fixture('empty.off', OFF_EMPTY),
    dae: () => fixture('empty.dae', DAE_EMPTY),
    '3mf': () => threeMf('empty.3mf', THREE_MF_EMPTY),
    '3ds': () => fixture('empty.3ds', threeDsEmpty()),
    fbx: () => fixture('empty.fbx', fbxEmpty()),
  };
  for (const format of Object.keys(corrupt)) {
    it(`fails on a corrupt .${format} and on one with no faces, naming the file`, async () => {
      const bad = fixture(`broken-model.${format}`, corrupt[format]!);
      await expect(loadModel(bad)).rejects.toThrow(/'broken-model\.\w+'/);
      await expect(loadModel(empty[format]!())).rejects.toThrow(new RegExp(`'empty\\.${format}'`));
      await expect(loadModel(fixture(`zero-bytes.${format}`, ''))).rejects.toThrow(`'zero-bytes.${format}' is empty`);
    });
  }

  it('says what assimp reported', async () => {
    await expect(loadModel(path.join(dir, 'broken-model.dae'))).rejects.toThrow("'broken-model.dae' could not be read as Collada (assimp: import_error)");
  });
});
