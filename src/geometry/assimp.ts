// FBX, Collada (DAE), 3DS, 3MF and OFF through assimp (assimpjs 0.0.10, MIT, assimp 5.2 built to
// WebAssembly): the file is converted to GLB in memory, then read into a glTF-Transform Document.
//
// Units and axes — the model keeps its file's coordinates: no axis is rotated and nothing is
// scaled, whatever assimp does on its own:
//   - FBX: assimp applies neither UpAxis nor UnitScaleFactor (the vertices stay in the file's
//     units); `units` is UnitScaleFactor (centimetres per unit) when it names a unit we know.
//   - Collada: assimp puts <unit meter> and a rotation of <up_axis> to Y-up on the root node (the
//     <visual_scene>, which holds no transform of its own); that root transform is taken off, and
//     `units` is <unit>'s (no <unit>: one metre, Collada's default).
//   - 3DS: assimp rotates its made-up root node from Z-up to Y-up and divides by the master scale;
//     that root transform is taken off. 3DS states no unit: `units` is null.
//   - 3MF: assimp keeps the file's coordinates and ignores <model unit>; `units` is that unit
//     (none stated: millimetres, 3MF's default).
//   - OFF: no units, no axes.
// A unit we have no name for (say a Collada <unit meter="0.1">) scales the model to metres.
//
// Names: assimp names Collada nodes by their id and 3MF objects "Object_<id>"; the names the
// files give are put back. 3DS names objects only through its keyframer section (files without
// one get assimp's "3DSMesh_<n>").
import fs from 'node:fs';
import path from 'node:path';
import { isInside } from '../shared/share';
import yauzl from 'yauzl';
import { GLB_BUFFER, Logger, NodeIO, PropertyType, type JSONDocument, type mat4, type Node } from '@gltf-transform/core';
import { ALL_EXTENSIONS, KHRMaterialsIOR, type IOR } from '@gltf-transform/extensions';
import { prune, weld } from '@gltf-transform/functions';
import type { Document } from './model';
import { srgbToLinear } from './color';
import { lazy } from './lazy';
import { ModelFormatError } from './stl';
import { METRES_PER_UNIT } from './cad';

/** What readAssimp reads (by extension, lower case). */
export const ASSIMP_FORMATS = ['fbx', 'dae', '3ds', '3mf', 'off'] as const;
export type AssimpFormat = (typeof ASSIMP_FORMATS)[number];
const LABEL: Record<AssimpFormat, string> = { fbx: 'FBX', dae: 'Collada', '3ds': '3DS', '3mf': '3MF', off: 'OFF' };

/**
 * Bytes of the files beside a model that one read may take (textures, and whatever assimp asks
 * for); a file past the budget is treated as missing.
 */
export const RESOURCE_BUDGET = 256 * 1024 * 1024;
/** How many directory entries the search for a referenced file looks at, and how deep. */
const SEARCH_ENTRIES = 10_000;
const SEARCH_DEPTH = 4;

interface AssimpFile {
  GetPath(): string;
  GetContent(): Uint8Array;
  delete(): void;
}
interface AssimpResult {
  IsSuccess(): boolean;
  GetErrorCode(): string;
  FileCount(): number;
  GetFile(index: number): AssimpFile;
  delete(): void;
}
interface Assimp {
  /** Imports `name` (its extension picks the importer), asking `exists`/`load` for the files it references. */
  ConvertFile(name: string, format: string, content: Uint8Array, exists: (name: string) => boolean, load: (name: string) => Uint8Array): AssimpResult;
}

const assimp = lazy(() => (require('assimpjs') as () => Promise<Assimp>)());

/** Starts loading assimp's WebAssembly now (a script process started ahead of its job). */
export const preloadAssimp = assimp.preload;

export interface AssimpModel {
  document: Document;
  /** The length unit of the coordinates (a key of METRES_PER_UNIT), null when the file states none. */
  units: string | null;
}

/** Reads an FBX, Collada, 3DS, 3MF or OFF file (with the textures beside it) into a Document. */
export async function readAssimp(file: string, format: string): Promise<Document> {
  return (await readAssimpModel(file, format)).document;
}

/** readAssimp, with the model's length unit. */
export async function readAssimpModel(file: string, format: string): Promise<AssimpModel> {
  const name = path.basename(file);
  const fmt = format.toLowerCase();
  if (!(ASSIMP_FORMATS as readonly string[]).includes(fmt)) {
    throw new ModelFormatError(`'${name}': assimp reads ${ASSIMP_FORMATS.map((f) => `.${f}`).join(', ')}, not .${format}`);
  }
  const kind = fmt as AssimpFormat;
  const content = await fs.promises.readFile(file);
  if (content.length === 0) throw new ModelFormatError(`'${name}' is empty`);
  const siblings = new Siblings(path.dirname(path.resolve(file)));
  const lib = await assimp.get();

  // The extension picks assimp's importer: the format given decides, whatever the file is called.
  const assimpName = path.extname(name).slice(1).toLowerCase() === kind ? name : `${name}.${kind}`;
  // assimp asks by lower-cased base name; these run inside WebAssembly and must not throw.
  const exists = (ref: string) => {
    try {
      return siblings.find(ref) !== null;
    } catch {
      return false;
    }
  };
  const load = (ref: string) => {
    try {
      return siblings.read(siblings.find(ref)) ?? new Uint8Array(0);
    } catch {
      return new Uint8Array(0);
    }
  };
  let result: AssimpResult;
  try {
    result = lib.ConvertFile(assimpName, 'glb2', content, exists, load);
  } catch (err) {
    // assimp aborted (out of memory, a crash): its WebAssembly instance is not used again.
    assimp.reset();
    throw new ModelFormatError(`'${name}' could not be read as ${LABEL[kind]}: assimp failed (${(err as Error).message})`);
  }
  let glb: Buffer;
  try {
    if (!result.IsSuccess() || result.FileCount() === 0) {
      // assimpjs reports only a code, not assimp's own message.
      throw new ModelFormatError(
        `'${name}' could not be read as ${LABEL[kind]} (assimp: ${result.GetErrorCode()}): the file is corrupt, is not ${LABEL[kind]}, or holds no geometry`,
      );
    }
    const out = result.GetFile(0);
    try {
      glb = Buffer.from(out.GetContent()); // a copy: the view is into WebAssembly memory
    } finally {
      out.delete();
    }
  } finally {
    result.delete();
  }

  const document = await readGlb(glb, name, siblings);
  const units = await fixUp(document, kind, content, name);
  await document.transform(
    prune({ propertyTypes: [PropertyType.MESH, PropertyType.SKIN, PropertyType.MATERIAL, PropertyType.TEXTURE, PropertyType.ACCESSOR], keepAttributes: true, keepSolidTextures: true }),
    weld(), // assimp gives every corner of every face its own vertex
  );
  // Extensions assimp lists whatever the model uses (KHR_materials_volume...): only those in use stay.
  for (const extension of document.getRoot().listExtensionsUsed()) {
    if (!extension.listProperties().some((p) => !p.isDisposed() && p.listParents().length > 0)) extension.dispose();
  }
  return { document, units };
}

// ---------- GLB to Document, with the textures it points to ----------

async function readGlb(glb: Buffer, name: string, siblings: Siblings): Promise<Document> {
  if (glb.length < 20 || glb.readUInt32LE(0) !== 0x46546c67 || glb.readUInt32LE(16) !== 0x4e4f534a) throw new ModelFormatError(`'${name}': assimp wrote no valid GLB`);
  const jsonLength = glb.readUInt32LE(12);
  const json = JSON.parse(glb.subarray(20, 20 + jsonLength).toString('utf8')) as JSONDocument['json'];
  const resources: JSONDocument['resources'] = {};
  const binAt = 20 + jsonLength;
  if (glb.length >= binAt + 8 && glb.readUInt32LE(binAt + 4) === 0x004e4942) resources[GLB_BUFFER] = bytes(glb.subarray(binAt + 8, binAt + 8 + glb.readUInt32LE(binAt)));
  // Textures that are files stay references in assimp's GLB: read them from beside the model.
  // One not found gets no bytes, and is left out below; as with OBJ, the job's log (stderr) says so.
  const missing = new Map<string, string>();
  for (const image of json.images ?? []) {
    if (image.uri === undefined || image.uri.startsWith('data:') || image.bufferView !== undefined || image.uri in resources) continue;
    const found = siblings.find(image.uri);
    const data = siblings.read(found);
    if (!data) missing.set(image.uri, found ? `is past the ${RESOURCE_BUDGET >> 20} MiB read for the files beside the model` : 'is not inside the model’s folder');
    resources[image.uri] = bytes(data ?? Buffer.alloc(0));
  }
  const io = new NodeIO().registerExtensions(ALL_EXTENSIONS).setLogger(new Logger(Logger.Verbosity.ERROR));
  const document = await io.readJSON({ json, resources });
  const uris = new Set<string>();
  for (const texture of document.getRoot().listTextures()) {
    const image = texture.getImage();
    const mime = image ? imageType(image) : null;
    // glTF carries PNG and JPEG; TGA, BMP, DDS... are left out (the material keeps its colour).
    if (!mime) {
      const ref = texture.getURI() || texture.getName() || 'an embedded texture';
      console.warn(`'${name}': the texture '${ref}' ${missing.get(texture.getURI()) ?? 'is neither PNG nor JPEG'}; it is left out`);
      texture.dispose();
      continue;
    }
    // A URI that is a plain file name: a .gltf written later puts the image beside itself.
    const stem = path.basename((texture.getURI() || texture.getName() || 'texture').replace(/\\/g, '/')).replace(/\.[^.]*$/, '').replace(/[^\w.-]+/g, '_') || 'texture';
    let uri = `${stem}.${mime === 'image/png' ? 'png' : 'jpg'}`;
    for (let i = 1; uris.has(uri); i++) uri = `${stem}_${i}.${mime === 'image/png' ? 'png' : 'jpg'}`;
    uris.add(uri);
    texture.setMimeType(mime).setURI(uri);
  }
  return document;
}

/** A Buffer as the plain Uint8Array glTF-Transform takes (same memory). */
const bytes = (b: Buffer) => new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);

function imageType(data: Uint8Array): 'image/png' | 'image/jpeg' | null {
  if (data.length > 8 && data[0] === 0x89 && data[1] === 0x50 && data[2] === 0x4e && data[3] === 0x47) return 'image/png';
  if (data.length > 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
  return null;
}

/**
 * The files under a model's directory that it may reference: regular files inside that tree
 * only (no link out of it), found by relative path or else by base name, within a byte budget.
 */
class Siblings {
  private real: string | null = null;
  private index: Map<string, string> | null = null;
  private left = RESOURCE_BUDGET;

  constructor(private readonly dir: string) {}

  private root(): string {
    return (this.real ??= fs.realpathSync(this.dir));
  }

  /** The file `ref` names, or null. */
  find(ref: string): string | null {
    let rel = ref.replace(/\\/g, '/');
    try {
      rel = decodeURIComponent(rel);
    } catch {
      // not URI-encoded
    }
    if (!rel || rel.includes('\0')) return null;
    if (!path.isAbsolute(rel) && !/^[a-z]:/i.test(rel)) {
      const direct = this.inside(path.resolve(this.dir, rel));
      if (direct) return direct;
    }
    // assimp asks by base name, and files often name textures by a path from another machine.
    return this.byName().get(path.posix.basename(rel).toLowerCase()) ?? null;
  }

  /** The file's bytes, or null when there is no file or it does not fit the budget. */
  read(file: string | null): Buffer | null {
    if (!file) return null;
    const size = fs.statSync(file).size;
    if (size > this.left) return null;
    this.left -= size;
    return fs.readFileSync(file);
  }

  /** `candidate` if it is a regular file whose real path lies inside the directory. */
  private inside(candidate: string): string | null {
    try {
      const real = fs.realpathSync(candidate);
      return isInside(this.root(), real) && fs.statSync(real).isFile() ? real : null;
    } catch {
      return null;
    }
  }

  /** Lower-cased base name → file, nearest first; links are not followed. */
  private byName(): Map<string, string> {
    if (this.index) return this.index;
    const index = new Map<string, string>();
    let seen = 0;
    let level = [this.root()];
    for (let depth = 0; depth <= SEARCH_DEPTH && level.length > 0 && seen < SEARCH_ENTRIES; depth++) {
      const next: string[] = [];
      for (const dir of level) {
        let entries: fs.Dirent[];
        try {
          entries = fs.readdirSync(dir, { withFileTypes: true });
        } catch {
          continue;
        }
        for (const entry of entries) {
          if (++seen > SEARCH_ENTRIES) break;
          const full = path.join(dir, entry.name);
          if (entry.isFile()) {
            const key = entry.name.toLowerCase();
            if (!index.has(key)) index.set(key, full);
          } else if (entry.isDirectory()) next.push(full);
        }
      }
      level = next;
    }
    return (this.index = index);
  }
}

// ---------- What assimp changes, put back ----------

const IDENTITY: mat4 = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
/** Column-major rotations assimp applies to bring a Collada up axis to Y. */
const TO_Y_UP: Record<string, mat4> = {
  Y_UP: IDENTITY,
  Z_UP: [1, 0, 0, 0, 0, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 1],
  X_UP: [0, 1, 0, 0, -1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1],
};

function close(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  for (let i = 0; i < 16; i++) if (Math.abs(a[i]! - b[i]!) > 1e-6 * Math.max(1, Math.abs(b[i]!))) return false;
  return true;
}

/** The name METRES_PER_UNIT gives a unit of `metres`, or null. */
function unitName(metres: number): string | null {
  for (const [unit, m] of Object.entries(METRES_PER_UNIT)) if (Math.abs(m - metres) <= 1e-9 * m) return unit;
  return null;
}

/** Decodes the five entities XML predefines and numeric references. */
function xmlText(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[e.toLowerCase()]!;
  });
}

/** The attributes of an XML start tag's text. */
function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of tag.matchAll(/([\w:.-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) out.set(m[1]!, xmlText(m[3] ?? m[4] ?? ''));
  return out;
}

/**
 * Undoes assimp's own changes for `format` (see the top of this file) and returns the model's
 * length unit.
 */
async function fixUp(doc: Document, format: AssimpFormat, content: Buffer, name: string): Promise<string | null> {
  const scene = doc.getRoot().getDefaultScene() ?? doc.getRoot().listScenes()[0];
  if (!scene) return null;
  const roots = scene.listChildren();
  const root = roots.length === 1 ? roots[0]! : null;
  let metres: number | null = null; // what one unit of the file is, when it says

  // Parts assimp makes up: the skeleton it draws for a scene without meshes, its default material.
  for (const mesh of doc.getRoot().listMeshes()) {
    if (mesh.listPrimitives().some((p) => p.getMaterial()?.getName() === 'SkeletonMaterial')) mesh.dispose();
  }
  for (const material of doc.getRoot().listMaterials()) {
    if (material.getName() === 'DefaultMaterial' || format === 'off') material.dispose(); // OFF has no materials: assimp's grey is its own
    // An index of refraction of 1 (assimp's when a file says none) would take all specular reflection away.
    else if (material.getExtension<IOR>(KHRMaterialsIOR.EXTENSION_NAME)?.getIOR() === 1) material.getExtension<IOR>(KHRMaterialsIOR.EXTENSION_NAME)!.dispose();
  }

  switch (format) {
    case 'dae': {
      const head = content.subarray(0, 1 << 20).toString('utf8');
      const asset = /<asset\b[\s\S]*?<\/asset>/.exec(head)?.[0] ?? '';
      const unit = /<unit\b[^>]*>/.exec(asset);
      const meter = unit ? Number(attributes(unit[0]).get('meter') ?? '1') : 1;
      const up = /<up_axis>\s*([XYZ]_UP)\s*<\/up_axis>/.exec(asset)?.[1] ?? 'Y_UP';
      const applied = TO_Y_UP[up]!.map((v, i) => (i < 12 ? v * meter : v));
      if (root && Number.isFinite(meter) && meter > 0 && close(root.getMatrix(), applied)) {
        root.setMatrix(IDENTITY);
        metres = meter;
      }
      // Node and mesh names: assimp uses the ids.
      const names = new Map<string, string>();
      for (const m of content.toString('utf8').matchAll(/<(?:node|geometry)\b[^>]*>/g)) {
        const a = attributes(m[0]);
        if (a.get('id') && a.get('name')) names.set(a.get('id')!, a.get('name')!);
      }
      for (const property of [...doc.getRoot().listNodes(), ...doc.getRoot().listMeshes()]) {
        const n = names.get(property.getName());
        if (n !== undefined) property.setName(n);
      }
      break;
    }
    case '3ds':
      if (root && /^<3DS(Dummy)?Root>$/.test(root.getName())) root.setMatrix(IDENTITY);
      break;
    case '3mf': {
      const model = await threeMfModel(content);
      const unit = /<model\b[^>]*>/.exec(model);
      const units: Record<string, number> = { micron: 1e-6, millimeter: 0.001, centimeter: 0.01, inch: 0.0254, foot: 0.3048, meter: 1 };
      metres = units[(unit && attributes(unit[0]).get('unit')) || 'millimeter'] ?? null;
      const objects = new Map<string, string>();
      for (const m of model.matchAll(/<object\b[^>]*>/g)) {
        const a = attributes(m[0]);
        if (a.get('id') && a.get('name')) objects.set(a.get('id')!, a.get('name')!);
      }
      for (const node of doc.getRoot().listNodes()) {
        const id = /^Object_(\d+)$/.exec(node.getName())?.[1];
        if (id && objects.has(id)) node.setName(objects.get(id)!);
      }
      // Base materials: assimp names them "id<group>_<name>" and reads #RRGGBB with alpha 0.
      const bases = new Map<string, { name: string; rgba: [number, number, number, number] }>();
      for (const group of model.matchAll(/<basematerials\b([^>]*)>([\s\S]*?)<\/basematerials>/g)) {
        const id = attributes(group[1]!).get('id');
        for (const base of group[2]!.matchAll(/<base\b[^>]*>/g)) {
          const a = attributes(base[0]);
          const color = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(a.get('displaycolor') ?? '');
          if (!id || !a.get('name') || !color) continue;
          const hex = color[1]! + (color[2] ?? 'ff');
          // displaycolor is sRGB; glTF keeps base colours linear (alpha stays as is).
          const rgba = [0, 2, 4, 6].map((i, k) => (k < 3 ? srgbToLinear : (x: number) => x)(parseInt(hex.slice(i, i + 2), 16) / 255)) as [number, number, number, number];
          bases.set(`id${id}_${a.get('name')}`, { name: a.get('name')!, rgba });
        }
      }
      for (const material of doc.getRoot().listMaterials()) {
        const base = bases.get(material.getName());
        if (base) material.setName(base.name).setBaseColorFactor(base.rgba);
      }
      break;
    }
    case 'fbx':
      metres = fbxUnitScale(content);
      if (metres !== null) metres *= 0.01; // FBX's unit is in centimetres
      break;
    case 'off':
      break;
  }

  // The root assimp makes (FBX's "RootNode", Collada's visual scene, "<3DSRoot>", "3MF"): its
  // children go to the scene. OFF's root holds the mesh: it takes the file's name.
  if (root && !root.getMesh() && close(root.getMatrix(), IDENTITY) && !root.getSkin()) {
    for (const child of root.listChildren()) {
      root.removeChild(child);
      scene.addChild(child);
    }
    scene.removeChild(root);
    root.dispose();
  } else if (root && /^<.*Root>$/.test(root.getName())) root.setName(name.replace(/\.[^.]+$/, ''));
  // Meshes assimp leaves unnamed or numbered take their node's name.
  for (const node of doc.getRoot().listNodes()) {
    const mesh = node.getMesh();
    if (mesh && /^\d*$/.test(mesh.getName())) mesh.setName(node.getName());
  }

  if (metres === null || !Number.isFinite(metres) || metres <= 0) return null;
  const unit = unitName(metres);
  if (unit) return unit;
  // A unit without a name here: the model is scaled to metres.
  for (const node of scene.listChildren()) scaleBy(node, metres);
  return 'm';
}

/** Scales a top-level node uniformly about the origin. */
function scaleBy(node: Node, factor: number): void {
  const t = node.getTranslation();
  const s = node.getScale();
  node.setTranslation([t[0] * factor, t[1] * factor, t[2] * factor]).setScale([s[0] * factor, s[1] * factor, s[2] * factor]);
}

/** FBX's GlobalSettings UnitScaleFactor (centimetres per unit), ASCII or binary; null when absent. */
function fbxUnitScale(content: Buffer): number | null {
  if (content.subarray(0, 18).toString('latin1') !== 'Kaydara FBX Binary') {
    const m = /"UnitScaleFactor"\s*,\s*"[^"]*"\s*,\s*"[^"]*"\s*,\s*"[^"]*"\s*,\s*([-+\d.eE]+)/.exec(content.toString('latin1'));
    return m ? Number(m[1]) : null;
  }
  // A binary property record P: "UnitScaleFactor", "double", "Number", "", <double>.
  const key = Buffer.from('UnitScaleFactor');
  for (let at = content.indexOf(key); at >= 0; at = content.indexOf(key, at + 1)) {
    if (at < 5 || content[at - 5] !== 0x53 /* S */ || content.readUInt32LE(at - 4) !== key.length) continue;
    let p = at + key.length;
    while (p < content.length && content[p] === 0x53) p += 5 + content.readUInt32LE(p + 1);
    if (p + 9 <= content.length && content[p] === 0x44 /* D */) return content.readDoubleLE(p + 1);
  }
  return null;
}

/** The text of a 3MF package's model parts ('' when it cannot be read: assimp's reading stands). */
async function threeMfModel(content: Buffer): Promise<string> {
  const LIMIT = 256 * 1024 * 1024;
  return new Promise((resolve) => {
    yauzl.fromBuffer(content, { lazyEntries: true }, (err, zip) => {
      if (err) return resolve('');
      const parts: Buffer[] = [];
      let total = 0;
      zip.on('error', () => resolve(''));
      zip.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (!/\.model$/i.test(entry.fileName) || total + entry.uncompressedSize > LIMIT) return zip.readEntry();
        zip.openReadStream(entry, (e, stream) => {
          if (e) return resolve('');
          stream.on('data', (c: Buffer) => {
            total += c.length;
            parts.push(c);
          });
          stream.on('error', () => resolve(''));
          stream.on('end', () => zip.readEntry());
        });
      });
      zip.readEntry();
    });
  });
}
