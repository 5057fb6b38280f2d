// The model formats, by extension: what loadModel reads and saveModel writes. Apart from the rest
// of the 3D library, so that the API checks an upload without loading it.

/** What loadModel reads. */
export const INPUT_FORMATS = ['glb', 'gltf', 'obj', 'stl', 'ply', 'step', 'stp', 'iges', 'igs', 'brep', 'brp', 'ifc', 'fbx', 'dae', '3ds', '3mf', 'off'] as const;
/** What saveModel writes. */
export const OUTPUT_FORMATS = ['glb', 'gltf', 'obj', 'stl', 'ply'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
