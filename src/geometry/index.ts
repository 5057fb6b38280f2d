// The 3D library scripts import as 'pixyz-scheduler/geometry': load, convert and describe models
// the way the predefined processes do.
export { createDocument, addMesh, colorMaterial, triangles, type Document, type MeshInput } from './model';
export { loadModel, saveModel, INPUT_FORMATS, OUTPUT_FORMATS, ModelFormatError, type LoadedModel, type LoadOptions, type SaveOptions, type OutputFormat } from './io';
export { COMPRESSIONS, type Compression } from './gltf';
export { modelParams, type ModelParams } from './params';
export { computeMetadata, countTriangles, type ModelMetadata, type NodeInfo } from './metadata';
export { readStl, writeStl, isBinaryStl } from './stl';
export { readObj, readObjFile, writeObj, readMtl, type MtlMaterial, type ObjFiles } from './obj';
export { readPly, writePly } from './ply';
export { readIfc, type IfcModel } from './ifc';
export { readAssimp, readAssimpModel, ASSIMP_FORMATS, type AssimpModel } from './assimp';
export { renderView, writeThumbnails, UPSTREAM_VIEWS, type View } from './render';
export { decimate, optimize, DEFAULT_PREVIEW_TRIANGLES, type OptimizeOptions } from './preview';
