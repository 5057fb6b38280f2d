// The 3D library scripts import as 'pixyz-scheduler/geometry': load, convert and describe models
// the way the predefined processes do.
export { createDocument, addMesh, colorMaterial, triangles, type Document, type MeshInput } from './model';
export { loadModel, saveModel, INPUT_FORMATS, OUTPUT_FORMATS, ModelFormatError, type LoadedModel, type OutputFormat } from './io';
export { computeMetadata, countTriangles, type ModelMetadata, type NodeInfo } from './metadata';
export { readStl, writeStl, isBinaryStl } from './stl';
export { readObj, writeObj, readMtl } from './obj';
export { readPly, writePly } from './ply';
export { renderView, writeThumbnails, UPSTREAM_VIEWS, type View } from './render';
export { decimate, DEFAULT_PREVIEW_TRIANGLES } from './preview';
