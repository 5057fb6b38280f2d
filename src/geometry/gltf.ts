// glTF reading and writing: every extension glTF-Transform knows, Draco and meshopt decoders for
// compressed inputs, and the encoders when an output asks for compression.
import { NodeIO, type Document } from '@gltf-transform/core';
import { ALL_EXTENSIONS } from '@gltf-transform/extensions';
import { draco, meshopt } from '@gltf-transform/functions';

export const COMPRESSIONS = ['draco', 'meshopt'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

interface Draco3d {
  createDecoderModule(): Promise<unknown>;
  createEncoderModule(): Promise<unknown>;
}

let reader: Promise<NodeIO> | undefined;
let writer: Promise<NodeIO> | undefined;

const meshoptimizer = async () => {
  const lib = await import('meshoptimizer'); // ESM-only
  await Promise.all([lib.MeshoptDecoder.ready, lib.MeshoptEncoder.ready]);
  return lib;
};

/** A NodeIO that reads any glTF/GLB, Draco- or meshopt-compressed included (decoders load once, ~80 ms). */
export function gltfReader(): Promise<NodeIO> {
  return (reader ??= (async () => {
    const draco3d = require('draco3dgltf') as Draco3d;
    const [decoder, { MeshoptDecoder }] = await Promise.all([draco3d.createDecoderModule(), meshoptimizer()]);
    return new NodeIO().registerExtensions(ALL_EXTENSIONS).registerDependencies({ 'draco3d.decoder': decoder, 'meshopt.decoder': MeshoptDecoder });
  })());
}

/** A NodeIO that also holds the encoders, for outputs that ask for compression. */
function gltfWriter(): Promise<NodeIO> {
  return (writer ??= (async () => {
    const draco3d = require('draco3dgltf') as Draco3d;
    const [io, encoder, { MeshoptEncoder }] = await Promise.all([gltfReader(), draco3d.createEncoderModule(), meshoptimizer()]);
    return io.registerDependencies({ 'draco3d.encoder': encoder, 'meshopt.encoder': MeshoptEncoder });
  })());
}

/**
 * The NodeIO that writes `doc`, after marking it for `compression`. Draco is applied when the
 * file is written; meshopt quantizes and reorders the document's vertex data in place first.
 */
export async function gltfWriterFor(doc: Document, compression?: Compression | null): Promise<NodeIO> {
  // A compressed input is written uncompressed unless the output asks for compression again.
  for (const ext of doc.getRoot().listExtensionsUsed()) {
    if (ext.extensionName === 'KHR_draco_mesh_compression' || ext.extensionName === 'EXT_meshopt_compression') ext.dispose();
  }
  if (!compression) return gltfReader();
  const io = await gltfWriter();
  if (compression === 'draco') await doc.transform(draco());
  else await doc.transform(meshopt({ encoder: (await meshoptimizer()).MeshoptEncoder }));
  return io;
}

/** The JSON chunk of a GLB file; null when `data` is not a GLB. */
export function glbJson(data: Uint8Array): Record<string, unknown> | null {
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (view.length < 20 || view.readUInt32LE(0) !== 0x46546c67 || view.readUInt32LE(16) !== 0x4e4f534a) return null;
  return JSON.parse(view.subarray(20, 20 + view.readUInt32LE(12)).toString('utf8')) as Record<string, unknown>;
}
