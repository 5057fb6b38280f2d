// Many CAD parts tessellated in parallel, then assembled into one model — a chord:
//   main (control):        list the parts
//   subtask (cpu, 1/part): load one STEP part (OpenCascade tessellates it) → parts/<part>.glb
//   mergeResult (cpu):     once every part is done, put them together → output.glb
// main waits for the chord and returns its result.
//
// The parts: a zip of part files (the scheduler, and pixyz-local, unpack it); every file in the
// folder of its first model file whose name matches `pattern` is a part. Upstream takes the
// .CATPart files of the zip; here, the STEP files by default (any format loadModel reads will do).
//
//   params: { "pattern": "\\.(stp|step)$" }   a regular expression on the file names
//   outputs: parts/<part>.glb for each part, output.glb (all of them, one node per part)
import fs from 'node:fs';
import path from 'node:path';
import { addMesh, colorMaterial, countTriangles, createDocument, loadModel, optimize, saveModel, triangles, type Document } from 'pixyz-scheduler/geometry';
import { chord, pixyzSchedule, type ProgramContext, type TaskOutput } from 'pixyz-scheduler';

interface Part {
  file: string;
  triangles: number;
}

/** One part (its input file): tessellate it and write it as GLB, in the job's outputs/parts/. */
export async function subtask(pc: ProgramContext): Promise<Part> {
  const part = pc.getInputFile()!;
  pc.progressNext(`Importing ${path.basename(part)}`);
  const model = await loadModel(part);
  const file = `parts/${path.parse(part).name}.glb`;
  fs.mkdirSync(pc.getOutputDir('parts'), { recursive: true });
  await saveModel(model.document, pc.getOutputDir(file), { units: model.units });
  return { file, triangles: countTriangles(model.document) };
}

/** The chord's last step: gets the list of the parts' outputs ({ result, steps, … }) and merges them. */
export async function mergeResult(pc: ProgramContext, outputs: TaskOutput[]) {
  pc.progressNext(`Merging ${outputs.length} parts`);
  const merged = createDocument();
  for (const { result } of outputs) {
    const { file } = result as Part;
    const part = await loadModel(pc.getOutputDir(file));
    append(merged, part.document, path.basename(file, '.glb'));
  }
  await optimize(merged, { weld: true }); // one vertex per corner shared by its triangles, not three
  await saveModel(merged, pc.getOutputDir('output.glb')); // the parts are in metres already
  return { output: 'output.glb', parts: outputs.length, triangles: countTriangles(merged) };
}

/** Copies `part`'s triangles into `into`, under a node named `name`, one mesh per colour. */
function append(into: Document, part: Document, name: string): void {
  const node = into.createNode(name);
  into.getRoot().getDefaultScene()!.addChild(node);
  const byColour = new Map<string, number[]>();
  for (const t of triangles(part)) {
    const key = (t.material?.getBaseColorFactor() ?? [0.8, 0.8, 0.8, 1]).join(' ');
    if (!byColour.has(key)) byColour.set(key, []);
    byColour.get(key)!.push(...t.a, ...t.b, ...t.c); // world positions: the part's transforms applied
  }
  for (const [key, positions] of byColour) {
    const rgba = key.split(' ').map(Number) as [number, number, number, number];
    addMesh(into, { name, positions: Float32Array.from(positions), material: colorMaterial(into, name, rgba) }, node);
  }
}

export const main = pixyzSchedule({ queue: 'control' }, async (pc: ProgramContext, params: { pattern?: string }) => {
  pc.progressSetTotal(2);
  pc.progressNext('Listing the parts');
  const input = pc.getInputFile();
  if (!input) throw new Error('send a zip of part files');
  const folder = path.dirname(input);
  const pattern = new RegExp(params.pattern ?? '\\.(stp|step)$', 'i');
  const parts = fs.readdirSync(folder).filter((name) => pattern.test(name)).sort();
  if (parts.length === 0) throw new Error(`no file in ${path.basename(folder)}/ matches ${pattern}`);

  pc.progressNext(`Converting ${parts.length} parts in parallel`);
  // A clone of the job's context shares the job's directory (its files land in the job's
  // outputs/); `data` makes one part its input file, as upstream's pc.clone(data=…).
  const parallel = chord(
    parts.map((name) => pc.clone({ entrypoint: 'subtask', data: path.join(folder, name) }).s({}, { queue: 'cpu' })),
    pc.clone({ entrypoint: 'mergeResult', raw: true }).s(undefined, { queue: 'cpu' }),
  ).applyAsync();
  // Upstream joins inside `allow_join_result()`; here joining never blocks a worker, the call is for parity.
  return pc.allowJoinResult(() => parallel.get());
});
