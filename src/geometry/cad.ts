// STEP, IGES and BREP through OpenCascade (occt-import-js, LGPL-2.1, WebAssembly): tessellated
// into meshes in the file's own length unit, with the assembly tree and the faces' colours.
import { addMesh, colorMaterial, createDocument, type Document, type Material, type Node } from './model';
import { srgbToLinear } from './color';
import { lazy } from './lazy';
import { ModelFormatError } from './stl';

interface OcctMesh {
  name: string;
  color?: [number, number, number];
  brep_faces?: unknown[];
  attributes: { position: { array: number[] }; normal?: { array: number[] } };
  index: { array: number[] };
}
interface OcctNode {
  name: string;
  meshes: number[];
  children: OcctNode[];
}
interface OcctResult {
  success: boolean;
  root: OcctNode;
  meshes: OcctMesh[];
}
interface Occt {
  ReadStepFile(content: Uint8Array, params: object | null): OcctResult;
  ReadIgesFile(content: Uint8Array, params: object | null): OcctResult;
  ReadBrepFile(content: Uint8Array, params: object | null): OcctResult;
}

const occt = lazy(() => (require('occt-import-js') as () => Promise<Occt>)());

/** Starts loading OpenCascade's WebAssembly now (a script process started ahead of its job). */
export const preloadCad = occt.preload;

const OCCT_UNITS: Record<string, string> = { mm: 'millimeter', cm: 'centimeter', m: 'meter', in: 'inch', ft: 'foot' };
const SI_PREFIX: Record<string, string> = { '.MILLI.': 'mm', '.CENTI.': 'cm', $: 'm' };

/** The length unit a STEP file declares in its LENGTH_UNIT entity; null when it says none we know. */
export function stepLengthUnit(text: string): string | null {
  for (const statement of text.split(';')) {
    if (!statement.includes('LENGTH_UNIT')) continue;
    const si = /SI_UNIT\s*\(\s*(\.[A-Z]+\.|\$)\s*,\s*\.METRE\.\s*\)/.exec(statement);
    if (si) return SI_PREFIX[si[1]!] ?? null;
    const named = /CONVERSION_BASED_UNIT\s*\(\s*'([^']+)'/i.exec(statement);
    if (named) {
      const unit = named[1]!.toUpperCase();
      if (unit.startsWith('INCH')) return 'in';
      if (unit.startsWith('FOOT') || unit.startsWith('FEET')) return 'ft';
    }
  }
  return null;
}

/** Metres in one of a unit. */
export const METRES_PER_UNIT: Record<string, number> = { mm: 0.001, cm: 0.01, m: 1, in: 0.0254, ft: 0.3048 };

export interface CadModel {
  document: Document;
  units: string | null;
  bodies: number;
  faces: number;
}

/**
 * Tessellates a CAD file. `quality.linearDeflection` is in the file's length unit (default: 0.1%
 * of the bounding box); `quality.angularDeflection` in degrees (default 0.5 rad).
 */
export async function readCad(buf: Buffer, name: string, format: 'step' | 'iges' | 'brep', quality: { linearDeflection?: number; angularDeflection?: number } = {}): Promise<CadModel> {
  const text = format === 'step' ? buf.toString('latin1') : '';
  if (format === 'step' && !/^\s*ISO-10303-21\s*;/.test(text)) throw new ModelFormatError(`'${name}' is not a STEP file (no ISO-10303-21 header)`);
  // Parts kept in other files (DOCUMENT_FILE references), whether or not this file has geometry
  // of its own: OpenCascade reads one file from memory, and a partial model is never the answer.
  const external = [...text.matchAll(/DOCUMENT_FILE\s*\(\s*'([^']+)'/g)].map((m) => m[1]!).filter((f) => f.toLowerCase() !== name.toLowerCase());
  if (external.length > 0) {
    throw new ModelFormatError(
      `'${name}' is an assembly whose parts are in other files (${[...new Set(external)].join(', ')}); send one STEP file that holds the whole assembly`,
    );
  }
  const units = format === 'step' ? (stepLengthUnit(text) ?? 'mm') : format === 'iges' ? 'mm' : null;
  const params = {
    linearUnit: OCCT_UNITS[units ?? 'mm'],
    ...(quality.linearDeflection === undefined
      ? { linearDeflectionType: 'bounding_box_ratio', linearDeflection: 0.001 }
      : { linearDeflectionType: 'absolute_value', linearDeflection: quality.linearDeflection }),
    angularDeflection: quality.angularDeflection === undefined ? 0.5 : (quality.angularDeflection * Math.PI) / 180,
  };
  const lib = await occt.get();
  const read = format === 'step' ? lib.ReadStepFile : format === 'iges' ? lib.ReadIgesFile : lib.ReadBrepFile;
  const result = read.call(lib, new Uint8Array(buf), params);
  if (!result.success) throw new ModelFormatError(`'${name}' could not be read by OpenCascade (corrupt, or not a ${format.toUpperCase()} file)`);
  const doc = createDocument();
  const materials = new Map<string, Material>();
  const materialOf = (c?: [number, number, number]): Material | null => {
    if (!c) return null;
    const key = c.map((x) => x.toFixed(3)).join(',');
    let m = materials.get(key);
    if (!m) {
      const lin = c.map(srgbToLinear); // occt gives sRGB colours in 0–1
      m = colorMaterial(doc, `color_${materials.size}`, [lin[0]!, lin[1]!, lin[2]!, 1]);
      materials.set(key, m);
    }
    return m;
  };
  let faces = 0;
  const build = (n: OcctNode, parent?: Node) => {
    const node = doc.createNode(n.name || name);
    if (parent) parent.addChild(node);
    else doc.getRoot().getDefaultScene()!.addChild(node);
    for (const i of n.meshes) {
      const m = result.meshes[i]!;
      faces += m.brep_faces?.length ?? 0;
      addMesh(
        doc,
        {
          name: m.name || `${n.name || 'part'}_${i}`,
          positions: Float32Array.from(m.attributes.position.array),
          normals: m.attributes.normal ? Float32Array.from(m.attributes.normal.array) : undefined,
          indices: Uint32Array.from(m.index.array),
          material: materialOf(m.color),
        },
        node,
      );
    }
    for (const child of n.children) build(child, node);
  };
  build(result.root);
  return { document: doc, units, bodies: result.meshes.length, faces };
}
