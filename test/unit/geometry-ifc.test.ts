// IFC through web-ifc: products, their spatial tree, colours and metres, from a file written in code.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { computeMetadata, loadModel, readIfc, saveModel } from '../../src/geometry';
import { twoBoxesIfc, type IfcFixtureOptions } from '../helpers/ifc-fixtures';

const validator = require('gltf-validator') as { validateBytes(data: Uint8Array, options?: object): Promise<{ issues: { numErrors: number; messages: unknown[] } }> };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-ifc-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
};
const bytes = (options?: IfcFixtureOptions) => new TextEncoder().encode(twoBoxesIfc(options));

async function read(options?: IfcFixtureOptions) {
  const model = await readIfc(bytes(options), 'two-boxes.ifc');
  return { model, meta: computeMetadata(model.document, { format: 'ifc', units: model.units, bytes: 0 }) };
}

function expectClose(a: number[], b: number[]) {
  a.forEach((x, i) => expect(Math.abs(x - b[i]!), `${a} vs ${b}`).toBeLessThanOrEqual(1e-6));
}

// The fixture in IFC axes (Z up): x 0..4, y 0..3, z -0.2..3; in glTF's Y-up frame, (x, z, −y).
const BBOX = { min: [0, -0.2, -3], max: [4, 3, 0] };

describe('IFC through web-ifc', () => {
  it('reads each product as a node of 12 triangles under site, building and storey, in metres', async () => {
    const { model, meta } = await read();
    expect(model.units).toBe('m');
    expect(model.schema).toBe('IFC4');
    expect(meta).toMatchObject({ polygon_count: 24, part_count: 2, material_count: 2 });
    expectClose([...meta.bbox!.min, ...meta.bbox!.max], [...BBOX.min, ...BBOX.max]);
    // A product's Name is its node's; an unnamed one is its IFC type and express ID.
    expect(meta.nodes).toEqual([
      {
        name: 'two-boxes.ifc',
        triangles: 0,
        children: [
          {
            name: 'Site',
            triangles: 0,
            children: [
              {
                name: 'Building',
                triangles: 0,
                children: [
                  {
                    name: 'Ground floor',
                    triangles: 0,
                    children: [
                      { name: 'North wall', triangles: 12, children: [] },
                      { name: 'IfcSlab #200', triangles: 12, children: [] },
                    ],
                  },
                ],
              },
            ],
          },
        ],
      },
    ]);
  });

  it('gives the same metres from a file in millimetres', async () => {
    const { model, meta } = await read({ unit: 'mm' });
    expect(model.units).toBe('m');
    expect(meta.polygon_count).toBe(24);
    expectClose([...meta.bbox!.min, ...meta.bbox!.max], [...BBOX.min, ...BBOX.max]);
  });

  it('turns each distinct colour into one material: linear base colour, blended when transparent', async () => {
    // The wall's IfcSurfaceStyle 'Brick' is sRGB (0.8, 0.2, 0.1); the slab has no style (web-ifc: white).
    const plain = await read();
    expect(plain.meta.materials).toHaveLength(2);
    const brick = plain.model.document.getRoot().listMaterials().find((m) => m.getName() === 'Brick')!;
    const [r, g, b, a] = brick.getBaseColorFactor();
    [r, g, b, a].forEach((v, i) => expect(v).toBeCloseTo([0.603827, 0.0331048, 0.0100228, 1][i]!, 5));
    expect(brick.getAlphaMode()).toBe('OPAQUE');
    const wall = plain.model.document.getRoot().listNodes().find((n) => n.getName() === 'North wall')!;
    expect(wall.getMesh()!.listPrimitives()[0]!.getMaterial()).toBe(brick);
    expect(plain.meta.materials.find((m) => m.name !== 'Brick')!.baseColor).toEqual([1, 1, 1, 1]);

    // Transparency 0.5 is alpha 0.5.
    const glass = await read({ slabColour: { rgb: [0.5, 0.7, 0.9], transparency: 0.5 } });
    const material = glass.model.document.getRoot().listMaterials().find((m) => m.getName() === 'Glass')!;
    expect(material.getAlpha()).toBeCloseTo(0.5, 6);
    expect(material.getAlphaMode()).toBe('BLEND');

    // The same colour twice is one material.
    const same = await read({ slabColour: { rgb: [0.8, 0.2, 0.1], transparency: 0 } });
    expect(same.meta.material_count).toBe(1);
  });

  it('loads .ifc by extension and writes GLB that the Khronos validator accepts', async () => {
    const loaded = await loadModel(file('model.ifc', twoBoxesIfc({ unit: 'mm', slabColour: { rgb: [0.5, 0.7, 0.9], transparency: 0.5 } })));
    expect(loaded).toMatchObject({ format: 'ifc', units: 'm' });
    await saveModel(loaded.document, path.join(dir, 'model.glb'), { units: loaded.units });
    const report = await validator.validateBytes(new Uint8Array(fs.readFileSync(path.join(dir, 'model.glb'))));
    expect(report.issues.numErrors, JSON.stringify(report.issues.messages)).toBe(0);
    const back = await loadModel(path.join(dir, 'model.glb'));
    const meta = computeMetadata(back.document, back);
    expect(meta.polygon_count).toBe(24);
    expectClose([...meta.bbox!.min, ...meta.bbox!.max], [...BBOX.min, ...BBOX.max]);
    expect(meta.materials.map((m) => m.name).sort()).toEqual(['Brick', 'Glass']);
  });

  it('says which file is not IFC, or is broken, and why', async () => {
    await expect(loadModel(file('garbage.ifc', 'hello, not a model'))).rejects.toThrow("'garbage.ifc' is not an IFC file (no ISO-10303-21 header)");
    const step = twoBoxesIfc().replace("FILE_SCHEMA(('IFC4'))", "FILE_SCHEMA(('AUTOMOTIVE_DESIGN'))");
    await expect(loadModel(file('part.ifc', step))).rejects.toThrow("'part.ifc' is a STEP file of schema AUTOMOTIVE_DESIGN, not IFC: read it as .step");
    await expect(loadModel(file('cut.ifc', twoBoxesIfc().slice(0, 900)))).rejects.toThrow(/^'cut.ifc' could not be read by web-ifc as IFC4 \(corrupt or truncated/);
    // Valid IFC without products: loadModel's own check.
    const empty = twoBoxesIfc().replace(/#100=[\s\S]*(?=ENDSEC;\nEND)/, '').replace('(#100,#200)', '()');
    await expect(loadModel(file('empty.ifc', empty))).rejects.toThrow("'empty.ifc' holds no triangles: nothing to convert");
    // A failed file leaves the shared web-ifc ready for the next.
    expect((await read()).meta.polygon_count).toBe(24);
  });
});
