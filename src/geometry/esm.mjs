// The geometry library for ES-module scripts: the same module instance, with named exports.
import { createRequire } from 'node:module';

const geometry = createRequire(import.meta.url)('./index');

export const {
  createDocument,
  addMesh,
  colorMaterial,
  triangles,
  loadModel,
  saveModel,
  INPUT_FORMATS,
  OUTPUT_FORMATS,
  COMPRESSIONS,
  modelParams,
  ModelFormatError,
  computeMetadata,
  countTriangles,
  readStl,
  writeStl,
  isBinaryStl,
  readObj,
  readObjFile,
  writeObj,
  readMtl,
  readPly,
  writePly,
  readIfc,
  readAssimp,
  readAssimpModel,
  ASSIMP_FORMATS,
  renderView,
  writeThumbnails,
  UPSTREAM_VIEWS,
  decimate,
  optimize,
  DEFAULT_PREVIEW_TRIANGLES,
} = geometry;
export default geometry;
