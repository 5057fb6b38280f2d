// Loading and saving models by file extension.
import fs from 'node:fs/promises';
import path from 'node:path';
import { NodeIO } from '@gltf-transform/core';
import type { Document } from './model';
import { readObj, writeObj } from './obj';
import { ModelFormatError, readStl, writeStl } from './stl';
import { countTriangles } from './metadata';

export { ModelFormatError };

/** What loadModel reads so far; CAD (STEP, IGES), FBX, DAE, PLY, 3MF and IFC come next. */
export const INPUT_FORMATS = ['glb', 'gltf', 'obj', 'stl'] as const;
/** What saveModel writes. */
export const OUTPUT_FORMATS = ['glb', 'gltf', 'obj', 'stl'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface LoadedModel {
  document: Document;
  /** The input format, by extension (lower case, no dot). */
  format: string;
  /** The length unit the file declares (glTF: metres), null when the format has none. */
  units: string | null;
  bytes: number;
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
  try {
    switch (format) {
      case 'glb':
      case 'gltf':
        document = await io().read(file);
        units = 'm';
        break;
      case 'stl':
        document = readStl(await fs.readFile(file), name);
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
  return { document, format, units, bytes };
}

/** Writes a model in the format of `file`'s extension (glTF: with its .bin beside it; OBJ: with its .mtl). */
export async function saveModel(document: Document, file: string): Promise<string[]> {
  const format = extensionOf(file);
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
    default:
      throw new ModelFormatError(
        `the output format '${format}' is not supported${format === 'pxz' ? ' (.pxz is the proprietary Pixyz format)' : ''}; supported outputs: ${OUTPUT_FORMATS.join(', ')}`,
      );
  }
  return written;
}
