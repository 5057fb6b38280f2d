// What a script process started ahead of its job (the worker's pool) loads while it waits.
import { preloadAssimp } from './assimp';
import { preloadCad } from './cad';
import { gltfReader } from './gltf';
import { preloadIfc } from './ifc';

/**
 * `geometry`: the library and the glTF reader with its Draco/meshopt decoders (~80 ms);
 * `all`: also the WebAssembly of OpenCascade, assimp and web-ifc (faster CAD/FBX/IFC jobs, about
 * 100 MB more per idle process).
 */
export async function preloadGeometry(level: 'geometry' | 'all'): Promise<void> {
  await Promise.all([
    gltfReader().catch(() => {}), // a failure shows again, with its message, when a file is read
    ...(level === 'all' ? [preloadCad(), preloadAssimp(), preloadIfc()] : []),
  ]);
}
