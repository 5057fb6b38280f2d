// Loading and saving models by file extension.
import fs from 'node:fs/promises';
import path from 'node:path';
import { Logger } from '@gltf-transform/core';
import { cloneDocument, unpartition } from '@gltf-transform/functions';
import type { Document, Node } from './model';
import { readObjFile, writeObj } from './obj';
import { readPly, writePly } from './ply';
import { ModelFormatError, readStl, writeStl } from './stl';
import { METRES_PER_UNIT, readCad } from './cad';
import { readIfc } from './ifc';
import { readAssimpModel } from './assimp';
import { countTriangles } from './metadata';
import { isInside, partialFile } from '../shared/share';
import { COMPRESSIONS, glbJson, gltfReader, gltfWriterFor, type Compression } from './gltf';

export { ModelFormatError };

import { INPUT_FORMATS, OUTPUT_FORMATS, type OutputFormat } from './formats';

export { INPUT_FORMATS, OUTPUT_FORMATS, type OutputFormat };
const CAD: Record<string, 'step' | 'iges' | 'brep'> = { step: 'step', stp: 'step', iges: 'iges', igs: 'iges', brep: 'brep', brp: 'brep' };

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

function extensionOf(file: string): string {
  return path.extname(file).slice(1).toLowerCase();
}

export interface LoadOptions {
  /**
   * CAD inputs: the largest distance between the tessellated mesh and the exact surface, in the
   * file's length unit. Default: 0.1% of the model's bounding box.
   */
  linearDeflection?: number;
  /** CAD inputs: the largest angle between the normals of neighbouring facets, in degrees. Default: 28.6° (0.5 rad). */
  angularDeflection?: number;
}

/** Reads a model; a format we cannot read, a corrupt file, or a model with no triangles is an error that says so. */
export async function loadModel(file: string, options: LoadOptions = {}): Promise<LoadedModel> {
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
        const cad = await readCad(await fs.readFile(file), name, CAD[format]!, tessellation(options));
        document = cad.document;
        units = cad.units;
        brep = { bodies: cad.bodies, faces: cad.faces };
        break;
      }
      case 'ifc': {
        const ifc = await readIfc(await fs.readFile(file), name);
        document = ifc.document;
        units = ifc.units;
        break;
      }
      case 'fbx':
      case 'dae':
      case '3ds':
      case '3mf':
      case 'off': {
        // Through assimp: units as the file states them (FBX, Collada, 3MF), else null.
        const model = await readAssimpModel(file, format);
        document = model.document;
        units = model.units;
        break;
      }
      case 'glb':
      case 'gltf':
        await checkGltfResources(file, format);
        document = await (await gltfReader()).read(file);
        units = 'm';
        break;
      case 'stl':
        document = readStl(await fs.readFile(file), name);
        break;
      case 'ply':
        document = readPly(await fs.readFile(file), name);
        break;
      case 'obj':
        document = await readObjFile(file);
        break;
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

export interface SaveOptions {
  /** The model's length unit (LoadedModel.units): glTF outputs are scaled from it to metres. */
  units?: string | null;
  /** glTF/GLB only: Draco or meshopt geometry compression. */
  compression?: Compression | null;
}

/** A glTF's buffers and images (GLB too): embedded, or files inside its folder (never elsewhere, never the network). */
async function checkGltfResources(file: string, format: 'glb' | 'gltf'): Promise<void> {
  let json: { buffers?: { uri?: string }[]; images?: { uri?: string }[] } | null;
  try {
    json = format === 'glb' ? glbJson(await fs.readFile(file)) : JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    throw new ModelFormatError(`'${path.basename(file)}' is not ${format === 'glb' ? 'a GLB file' : 'glTF JSON'}: ${(err as Error).message}`);
  }
  if (!json) throw new ModelFormatError(`'${path.basename(file)}' could not be read as .glb: no glTF binary header`);
  const dir = path.dirname(path.resolve(file));
  for (const { uri } of [...(json.buffers ?? []), ...(json.images ?? [])]) {
    if (uri === undefined || uri.startsWith('data:')) continue;
    const target = path.resolve(dir, decodeURIComponent(uri));
    if (/^[a-z][a-z0-9+.-]*:/i.test(uri) || target === dir || !isInside(dir, target)) {
      throw new ModelFormatError(`'${path.basename(file)}' refers to '${uri}', outside its folder: send the model and its files as a zip`);
    }
    await fs.access(target).catch(() => {
      throw new ModelFormatError(`'${path.basename(file)}' refers to '${uri}', which is not beside it: send the model and its files as a zip with root_file`);
    });
  }
}

/** Checks the tessellation options: each, when given, a positive number. */
function tessellation(options: LoadOptions): LoadOptions {
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
      throw new ModelFormatError(`${key} must be a positive number, not ${JSON.stringify(value)}`);
    }
  }
  if (options.angularDeflection !== undefined && options.angularDeflection > 180) throw new ModelFormatError('angularDeflection is in degrees and at most 180');
  return options;
}

/**
 * Writes a model in the format of `file`'s extension (glTF: with its .bin beside it; OBJ: with
 * its .mtl) and returns the files written. glTF is in metres, as its specification requires: a
 * model in other `units` is scaled; OBJ, STL and PLY keep the model's own units. Every file is
 * written under a temporary name first and renamed at the end: a failure leaves none of them.
 */
export async function saveModel(document: Document, file: string, options: SaveOptions = {}): Promise<string[]> {
  const format = extensionOf(file);
  const dir = path.dirname(file);
  const factor = options.units ? (METRES_PER_UNIT[options.units] ?? 1) : 1;
  const gltf = format === 'glb' || format === 'gltf';
  if (options.compression && !gltf) throw new ModelFormatError(`compression (${options.compression}) applies to glb and gltf outputs, not .${format}`);
  if (options.compression && !(COMPRESSIONS as readonly string[]).includes(options.compression)) {
    throw new ModelFormatError(`unknown compression '${options.compression}'; supported: ${COMPRESSIONS.join(', ')}`);
  }
  const files: [string, Uint8Array | string][] = [];
  switch (format) {
    case 'glb':
    case 'gltf':
      files.push(...(await gltfFiles(document, file, factor, options.compression ?? null)));
      break;
    case 'obj': {
      const mtlName = `${path.basename(file, '.obj')}.mtl`;
      const { obj, mtl, images } = writeObj(document, mtlName);
      files.push([file, obj], [path.join(dir, mtlName), mtl]);
      for (const [image, data] of images) files.push([path.join(dir, image), data]);
      break;
    }
    case 'stl':
      files.push([file, writeStl(document)]);
      break;
    case 'ply':
      files.push([file, writePly(document)]);
      break;
    default:
      throw new ModelFormatError(
        `the output format '${format}' is not supported${format === 'pxz' ? ' (.pxz is the proprietary Pixyz format)' : ''}; supported outputs: ${OUTPUT_FORMATS.join(', ')}`,
      );
  }
  for (const [target] of files) {
    if (!isInside(path.resolve(dir), path.resolve(target))) throw new ModelFormatError(`'${target}' would be written outside ${dir}`);
  }
  await writeAllOrNone(files);
  return files.map(([target]) => target);
}

/** Writes every file under a temporary name, then renames them all; on failure removes what it wrote. */
async function writeAllOrNone(files: [string, Uint8Array | string][]): Promise<void> {
  const temps: string[] = [];
  const renamed: string[] = [];
  try {
    for (const [target, data] of files) {
      const temp = partialFile(target);
      temps.push(temp);
      await fs.mkdir(path.dirname(temp), { recursive: true }); // a glTF's textures may sit in a folder
      await fs.writeFile(temp, data);
    }
    for (const [i, [target]] of files.entries()) {
      await fs.rename(temps[i]!, target);
      renamed.push(target);
    }
  } catch (err) {
    await Promise.all([...temps, ...renamed].map((t) => fs.rm(t, { force: true })));
    throw err;
  }
}

/**
 * The files of a glTF output. The caller's document is left as it was: a copy is written when the
 * output needs changes (compression quantizes and welds, a .gltf names its files after the
 * output, a GLB holds one buffer); otherwise the document itself, scaled for the time of writing.
 */
async function gltfFiles(document: Document, file: string, factor: number, compression: Compression | null): Promise<[string, Uint8Array | string][]> {
  const format = extensionOf(file);
  const base = path.basename(file, `.${format}`);
  const copy = compression !== null || format === 'gltf' || document.getRoot().listBuffers().length > 1;
  if (!copy) {
    const io = await gltfWriterFor(document, null);
    return [[file, await withScale(document, factor, () => io.writeBinary(document))]];
  }
  const doc = cloneDocument(document).setLogger(new Logger(Logger.Verbosity.WARN)); // no 'prune: removed…' in the job's log
  if (doc.getRoot().listBuffers().length > 1) await doc.transform(unpartition());
  if (factor !== 1) scaleScene(doc, factor);
  if (format === 'gltf') nameResources(doc, base);
  const io = await gltfWriterFor(doc, compression);
  if (format === 'glb') return [[file, await io.writeBinary(doc)]];
  const { json, resources } = await io.writeJSON(doc, { basename: base });
  return [[file, JSON.stringify(json, null, 2)], ...Object.entries(resources).map(([uri, data]): [string, Uint8Array] => [path.join(path.dirname(file), uri), data])];
}

/** A .gltf's own files: `<base>.bin`, and its textures under their own names, made safe and unique. */
function nameResources(doc: Document, base: string): void {
  for (const buffer of doc.getRoot().listBuffers()) buffer.setURI(`${base}.bin`);
  const taken = new Set<string>([`${base}.bin`]);
  doc.getRoot().listTextures().forEach((texture, i) => {
    const ext = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/ktx2': 'ktx2' }[texture.getMimeType()] ?? 'bin';
    let uri = texture.getURI();
    try {
      uri = decodeURIComponent(uri);
    } catch {
      // a malformed escape: the name is made safe below all the same
    }
    const stem = path.basename(uri.replace(/\\/g, '/')).replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]+/g, '_') || `${base}_texture${i}`;
    let name = `${stem}.${ext}`;
    for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${stem}_${n}.${ext}`;
    taken.add(name.toLowerCase());
    texture.setURI(name);
  });
}

/** Puts the scene under a node scaled by `factor` (for a copy: nothing to undo). */
function scaleScene(document: Document, factor: number): Node {
  const scene = document.getRoot().getDefaultScene() ?? document.getRoot().listScenes()[0]!;
  const children = scene.listChildren();
  const units = document.createNode('units').setScale([factor, factor, factor]);
  for (const child of children) {
    scene.removeChild(child);
    units.addChild(child);
  }
  scene.addChild(units);
  return units;
}

/** Runs `write` with the scene under a node scaled by `factor`, then puts the scene back. */
async function withScale<T>(document: Document, factor: number, write: () => Promise<T>): Promise<T> {
  if (factor === 1) return write();
  const scene = document.getRoot().getDefaultScene() ?? document.getRoot().listScenes()[0]!;
  const units = scaleScene(document, factor);
  const children = units.listChildren();
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
