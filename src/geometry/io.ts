// Loading and saving models by file extension.
import fs from 'node:fs/promises';
import path from 'node:path';
import { NodeIO } from '@gltf-transform/core';
import type { Document } from './model';
import { readObj, writeObj } from './obj';
import { readPly, writePly } from './ply';
import { ModelFormatError, readStl, writeStl } from './stl';
import { METRES_PER_UNIT, readCad } from './cad';
import { countTriangles } from './metadata';

export { ModelFormatError };

/** What loadModel reads so far; FBX, DAE, 3DS, 3MF, OFF and IFC come next. */
export const INPUT_FORMATS = ['glb', 'gltf', 'obj', 'stl', 'ply', 'step', 'stp', 'iges', 'igs', 'brep', 'brp'] as const;
const CAD: Record<string, 'step' | 'iges' | 'brep'> = { step: 'step', stp: 'step', iges: 'iges', igs: 'iges', brep: 'brep', brp: 'brep' };
/** What saveModel writes. */
export const OUTPUT_FORMATS = ['glb', 'gltf', 'obj', 'stl', 'ply'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface LoadedModel {
  document: Document;
  /** The input format, by extension (lower case, no dot). */
  format: string;
  /** The length unit of the geometry: the file's own (glTF: metres), null when the format has none. */
  units: string | null;
  bytes: number;
  /** For CAD inputs: their B-rep bodies and faces. */
  brep?: { bodies: number; faces: number };
}

const io = () => new NodeIO();

function extensionOf(file: string): string {
  return path.extname(file).slice(1).toLowerCase();
}

/** Reads a model; a format we cannot read, a corrupt file, or a model with no triangles is an error that says so. */
export async function loadModel(file: string): Promise<LoadedModel> {
  const name = path.basename(file);
  const format = extensionOf(file);
  const bytes = (await fs.stat(file)).size;
  let document: Document;
  let units: string | null = null;
  let brep: LoadedModel['brep'];
  try {
    switch (format) {
      case 'step':
      case 'stp':
      case 'iges':
      case 'igs':
      case 'brep':
      case 'brp': {
        const cad = await readCad(await fs.readFile(file), name, CAD[format]!);
        document = cad.document;
        units = cad.units;
        brep = { bodies: cad.bodies, faces: cad.faces };
        break;
      }
      case 'glb':
      case 'gltf':
        document = await io().read(file);
        units = 'm';
        break;
      case 'stl':
        document = readStl(await fs.readFile(file), name);
        break;
      case 'ply':
        document = readPly(await fs.readFile(file), name);
        break;
      case 'obj': {
        const dir = path.dirname(file);
        const mtls = new Map<string, string | null>();
        const text = await fs.readFile(file, 'utf8');
        for (const m of text.matchAll(/^mtllib\s+(.+)$/gm)) {
          const lib = m[1]!.trim();
          const target = path.resolve(dir, lib);
          // A material library beside the model; one outside its directory is not read.
          mtls.set(lib, target.startsWith(dir + path.sep) ? await fs.readFile(target, 'utf8').catch(() => null) : null);
        }
        document = readObj(text, name, (lib) => mtls.get(lib) ?? null);
        break;
      }
      default:
        throw new ModelFormatError(`'${name}': the format '.${format}' is not supported; supported inputs: ${INPUT_FORMATS.map((f) => `.${f}`).join(', ')}`);
    }
  } catch (err) {
    if (err instanceof ModelFormatError) throw err;
    throw new ModelFormatError(`'${name}' could not be read as .${format}: ${(err as Error).message}`);
  }
  if (countTriangles(document) === 0) throw new ModelFormatError(`'${name}' holds no triangles: nothing to convert`);
  return { document, format, units, bytes, ...(brep ? { brep } : {}) };
}

/**
 * Writes a model in the format of `file`'s extension (glTF: with its .bin beside it; OBJ: with
 * its .mtl). glTF is in metres, as its specification requires: a model in other `units` is
 * scaled; OBJ and STL keep the model's own units.
 */
export async function saveModel(document: Document, file: string, options: { units?: string | null } = {}): Promise<string[]> {
  const format = extensionOf(file);
  const factor = options.units ? (METRES_PER_UNIT[options.units] ?? 1) : 1;
  if ((format === 'glb' || format === 'gltf') && factor !== 1) {
    return withScale(document, factor, () => saveModel(document, file));
  }
  const written = [file];
  switch (format) {
    case 'glb':
      await fs.writeFile(file, await io().writeBinary(document));
      break;
    case 'gltf': {
      const { json, resources } = await io().writeJSON(document, { basename: path.basename(file, '.gltf') });
      await fs.writeFile(file, JSON.stringify(json, null, 2));
      for (const [uri, data] of Object.entries(resources)) {
        const target = path.join(path.dirname(file), uri);
        await fs.writeFile(target, data);
        written.push(target);
      }
      break;
    }
    case 'obj': {
      const mtlName = `${path.basename(file, '.obj')}.mtl`;
      const { obj, mtl } = writeObj(document, mtlName);
      await fs.writeFile(file, obj);
      await fs.writeFile(path.join(path.dirname(file), mtlName), mtl);
      written.push(path.join(path.dirname(file), mtlName));
      break;
    }
    case 'stl':
      await fs.writeFile(file, writeStl(document));
      break;
    case 'ply':
      await fs.writeFile(file, writePly(document));
      break;
    default:
      throw new ModelFormatError(
        `the output format '${format}' is not supported${format === 'pxz' ? ' (.pxz is the proprietary Pixyz format)' : ''}; supported outputs: ${OUTPUT_FORMATS.join(', ')}`,
      );
  }
  return written;
}

/** Runs `write` with the scene under a node scaled by `factor`, then puts the scene back. */
async function withScale<T>(document: Document, factor: number, write: () => Promise<T>): Promise<T> {
  const scene = document.getRoot().getDefaultScene() ?? document.getRoot().listScenes()[0]!;
  const children = scene.listChildren();
  const units = document.createNode('units').setScale([factor, factor, factor]);
  for (const child of children) {
    scene.removeChild(child);
    units.addChild(child);
  }
  scene.addChild(units);
  try {
    return await write();
  } finally {
    scene.removeChild(units);
    for (const child of children) {
      units.removeChild(child);
      scene.addChild(child);
    }
    units.dispose();
  }
}
