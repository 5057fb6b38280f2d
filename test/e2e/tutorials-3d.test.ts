// The 3D tutorials run the same way on a laptop (pixyz-local, no Temporal) and through the
// scheduler, with the same result; their files are valid models and images; their sub-tasks are
// children of the job, on the queues the tutorial names — `wine` served by a worker of its own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeMetadata, loadModel, saveModel } from '../../src/geometry';
import { assembly } from '../helpers/models';
import { startStack, type Stack } from '../helpers/stack';
import { childrenOf, download, outputNames, runLocally, runScheduled, scriptQueue, type LocalRun } from '../helpers/tutorials';
import { craftZip } from '../helpers/zip';

const validator = require('gltf-validator') as { validateBytes(data: Uint8Array): Promise<{ issues: { numErrors: number } }> };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SAMPLES = path.join(path.dirname(require.resolve('occt-import-js/package.json')), 'test', 'testfiles');
/** A 10 mm STEP cube: 12 triangles. */
const CUBE_STEP = path.join(SAMPLES, 'cube-10x10mm', 'Cube 10x10.stp');
/** A STEP part in inches, 1318 triangles: enough to see a decimation. */
const CONE_STEP = path.join(SAMPLES, 'conical-surface', 'conical-surface.step');
/** Three STEP parts of the CAx-IF "s1" model, and an assembly file that references others (not a part). */
const PARTS_DIR = path.join(SAMPLES, 'cax-if', 's1_pe_214');
const PART_FILES = ['foot_back_prt.stp', 'head_front_prt.stp', 'tail_turbine_prt.stp'];
const NOT_A_PART = 'foot_asm.stp';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-tutorials-3d-'));
const assemblyGlb = path.join(work, 'assembly.glb'); // red cube + blue half cube: 2 parts, 24 triangles
const views = ['iso', 'x', 'y', 'z'];

/** A GLB's facts, after checking that the Khronos validator finds no error in it. */
async function glbFacts(bytes: Buffer) {
  expect((await validator.validateBytes(new Uint8Array(bytes))).issues.numErrors).toBe(0);
  const file = path.join(fs.mkdtempSync(path.join(work, 'glb-')), 'model.glb');
  fs.writeFileSync(file, bytes);
  const model = await loadModel(file);
  const meta = computeMetadata(model.document, model);
  return { triangles: meta.polygon_count, parts: meta.part_count, size: meta.bbox!.max.map((x, i) => x - meta.bbox!.min[i]!), names: meta.nodes.map((n) => n.name) };
}

/** Checks a PNG's size and that it is not blank. */
function expectImage(bytes: Buffer, width: number, height: number) {
  const png = PNG.sync.read(bytes);
  expect([png.width, png.height]).toEqual([width, height]);
  let opaque = 0;
  for (let i = 3; i < png.data.length; i += 4) if (png.data[i]! > 127) opaque++;
  expect(opaque).toBeGreaterThan(50);
}

const local = (run: LocalRun, file: string) => fs.readFileSync(path.join(run.dir, file));
/** A result without what differs from run to run. */
const steady = (result: Record<string, unknown>) => ({ ...result, process_duration: expect.any(Number) });
const infos = (details: { steps: { info: string }[] }) => details.steps.map((s) => s.info);

let stack: Stack;
beforeAll(async () => {
  // A custom `wine` queue, served by a worker of its own, as on the machine that has the tool.
  stack = await startStack({ QUEUES: 'control,cpu,gpu,wine' }, process.env, [{ queues: ['control', 'cpu', 'gpu', 'share'] }, { queues: ['wine'] }]);
  await saveModel(assembly(), assemblyGlb);
});
afterAll(async () => {
  await stack?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('3D tutorials, locally and through the scheduler', { timeout: 180_000 }, () => {
  it('00_convert_a_file: STEP in, GLB out (in metres), the same file both ways', async () => {
    const [here, job] = await Promise.all([runLocally(work, '00_convert_a_file.ts', {}, CUBE_STEP), runScheduled(stack, '00_convert_a_file.ts', {}, CUBE_STEP)]);
    expect(here.result).toEqual({ output: 'output.glb' });
    expect(job.result).toEqual(here.result);
    expect(infos(job)).toEqual(['Importing file Cube 10x10.stp', 'Exporting file to output.glb', 'done']);
    expect(here.stderr).toContain('Exporting file to output.glb');
    expect(here.outputs).toEqual(['output.glb']);
    expect(await outputNames(stack, job.uuid)).toEqual(['output.glb']);
    const glb = await download(stack, job.uuid, 'output.glb');
    expect(glb.equals(local(here, 'output.glb'))).toBe(true);
    const facts = await glbFacts(glb);
    expect(facts.triangles).toBe(12);
    facts.size.forEach((s) => expect(s).toBeCloseTo(0.01, 6));
  });

  it('01_workflow_engine: screenshots, a decimated output.glb and the metadata, in one gpu job', async () => {
    const params = { width: 96, height: 64, previewTriangles: 300 };
    const [here, job] = await Promise.all([runLocally(work, '01_workflow_engine.ts', params, CONE_STEP), runScheduled(stack, '01_workflow_engine.ts', params, CONE_STEP)]);
    expect(here.result).toMatchObject({
      thumbs: { iso: 'iso.png', x: 'x.png', y: 'y.png', z: 'z.png' },
      preview: { file: 'output.glb', size: '96x64' },
      metadata: { polygon_count: 1318, part_count: 1, units: 'in', brep_body_count: 1, format: 'step' },
    });
    expect(here.result.preview.triangles).toBeLessThan(1318);
    expect(job.result).toEqual(steady(here.result));
    expect(await scriptQueue(stack, job.uuid)).toBe('gpu');
    expect(infos(job)).toEqual([
      'Importing file conical-surface.step',
      ...views.map((v) => `Screenshotting ${v}`),
      'DecimateTarget',
      'Export To GLB',
      'Generating metadata',
    ]);
    expect(here.outputs).toEqual(['iso.png', 'output.glb', 'x.png', 'y.png', 'z.png']);
    expect(await outputNames(stack, job.uuid)).toEqual(here.outputs);
    for (const v of views) expectImage(await download(stack, job.uuid, `${v}.png`), 96, 64);
    expect((await glbFacts(await download(stack, job.uuid, 'output.glb'))).triangles).toBe(here.result.preview.triangles);
  });

  /** What 05_chain_cpu_gpu_* leave: export.glb (the assembly) and four 64×64 screenshots. */
  async function expectChainOutputs(id: string, here: LocalRun) {
    const files = ['export.glb', 'iso.png', 'x.png', 'y.png', 'z.png'];
    expect(here.outputs).toEqual(files);
    expect(await outputNames(stack, id)).toEqual(files);
    expect(await glbFacts(await download(stack, id, 'export.glb'))).toMatchObject({ triangles: 24, parts: 2 });
    for (const v of views) expectImage(await download(stack, id, `${v}.png`), 64, 64);
    for (const v of views) expectImage(local(here, `${v}.png`), 64, 64);
  }

  /** The job's one canvas (its chain or chord) and the sub-tasks under it, with the queue each ran on. */
  async function subTasks(id: string, count: number) {
    const [canvas, ...others] = await childrenOf(stack, id, 1);
    expect(others).toEqual([]);
    expect(canvas!.type).toBe('pixyzCanvas');
    const tasks = await childrenOf(stack, canvas!.id, count);
    expect(tasks.every((t) => t.type === 'pixyzJob')).toBe(true);
    return { canvas: canvas!.id, tasks: await Promise.all(tasks.map(async (t) => ({ process: t.process, queue: await scriptQueue(stack, t.id) }))) };
  }

  const chainResult = {
    width: 64,
    height: 64,
    glb: 'export.glb',
    process_duration: expect.any(Number),
    thumbs: { iso: 'iso.png', x: 'x.png', y: 'y.png', z: 'z.png' },
  };

  it('05_chain_cpu_gpu_sync: a cpu step then a gpu step, joined: the job’s result is the chain’s', async () => {
    const params = { width: 64, height: 64 };
    const [here, job] = await Promise.all([runLocally(work, '05_chain_cpu_gpu_sync.ts', params, assemblyGlb), runScheduled(stack, '05_chain_cpu_gpu_sync.ts', params, assemblyGlb)]);
    expect(here.result).toEqual(chainResult);
    expect(job.result).toEqual(chainResult);
    expect(await scriptQueue(stack, job.uuid)).toBe('control'); // wait: true
    expect((await subTasks(job.uuid, 2)).tasks).toEqual([
      { process: '05_chain_cpu_gpu_sync.ts:importAndPrepare', queue: 'cpu' },
      { process: '05_chain_cpu_gpu_sync.ts:screenshot', queue: 'gpu' },
    ]);
    await expectChainOutputs(job.uuid, here);
  });

  it('05_chain_cpu_gpu_async: the same chain, its id returned at once, its result read by id', async () => {
    const params = { width: 64, height: 64 };
    const [here, job] = await Promise.all([runLocally(work, '05_chain_cpu_gpu_async.ts', params, assemblyGlb), runScheduled(stack, '05_chain_cpu_gpu_async.ts', params, assemblyGlb)]);
    expect(here.result).toEqual({ chain: expect.stringMatching(UUID) });
    expect(job.result).toEqual({ chain: expect.stringMatching(UUID) });
    const { canvas, tasks } = await subTasks(job.uuid, 2);
    expect(canvas).toBe(job.result.chain);
    expect(tasks.map((t) => t.queue)).toEqual(['cpu', 'gpu']);
    expect(await stack.client.workflow.getHandle(job.result.chain).result()).toEqual(chainResult);
    await expectChainOutputs(job.uuid, here);
  });

  it('06_chain_cpu_cpu_gpu_test: a chain across cpu, gpu, cpu and control, waited for (mainWait) or not (main)', async () => {
    const route = {
      trail: [
        { step: 'exportGlb', queue: 'cpu' },
        { step: 'renderIso', queue: 'gpu' },
        { step: 'writeMetadata', queue: 'cpu' },
        { step: 'summary', queue: 'control' },
      ],
      glb: 'export.glb',
      thumb: 'iso.png',
      triangles: 24,
      outputs: ['export.glb', 'iso.png', 'metadata.json'],
    };
    const tutorial = '06_chain_cpu_cpu_gpu_test.ts';
    const [hereWait, hereMain, jobWait, jobMain] = await Promise.all([
      runLocally(work, tutorial, {}, assemblyGlb, 'mainWait'),
      runLocally(work, tutorial, {}, assemblyGlb),
      runScheduled(stack, tutorial, {}, assemblyGlb, { entrypoint: 'mainWait' }),
      runScheduled(stack, tutorial, {}, assemblyGlb),
    ]);
    expect(hereWait.result).toEqual(route);
    expect(jobWait.result).toEqual(route);
    expect(hereMain.result).toEqual({ status: 'ok', chain: expect.stringMatching(UUID) });
    expect(jobMain.result).toEqual({ status: 'ok', chain: expect.stringMatching(UUID) });
    expect(await stack.client.workflow.getHandle(jobMain.result.chain).result()).toEqual(route);
    for (const run of [hereWait, hereMain]) expect(run.outputs).toEqual(route.outputs);
    const { tasks } = await subTasks(jobWait.uuid, 4);
    expect(tasks.map((t) => t.queue).sort()).toEqual(['control', 'cpu', 'cpu', 'gpu']);
    expect(await outputNames(stack, jobWait.uuid)).toEqual(route.outputs);
    expectImage(await download(stack, jobWait.uuid, 'iso.png'), 256, 256);
    expect(JSON.parse((await download(stack, jobWait.uuid, 'metadata.json')).toString())).toMatchObject({ polygon_count: 24, part_count: 2 });
  });

  /** What 06_chain_wine_cpu_gpu_* return: the last step's value, built by the three steps. */
  const wineResult = {
    width: 64,
    height: 64,
    previewTriangles: 300,
    filepath: 'export.glb',
    preview: { file: 'preview.glb', size: '64x64', triangles: expect.any(Number) },
    metadata: expect.objectContaining({ polygon_count: 1318, part_count: 1, units: 'm', format: 'glb' }),
    process_duration: expect.any(Number),
    thumbs: { iso: 'iso.png', x: 'x.png', y: 'y.png', z: 'z.png' },
  };
  const wineFiles = ['export.glb', 'iso.png', 'metadata.json', 'preview.glb', 'x.png', 'y.png', 'z.png'];
  const wineSteps = (tutorial: string) => [
    { process: `${tutorial}:convertOnWine`, queue: 'wine' },
    { process: `${tutorial}:prepareModel`, queue: 'cpu' },
    { process: `${tutorial}:screenshot`, queue: 'gpu' },
  ];

  async function expectWineOutputs(id: string, result: typeof wineResult & { preview: { triangles: number } }) {
    expect(await outputNames(stack, id)).toEqual(wineFiles);
    expect((await glbFacts(await download(stack, id, 'export.glb'))).triangles).toBe(1318);
    const preview = await glbFacts(await download(stack, id, 'preview.glb'));
    expect(preview.triangles).toBe(result.preview.triangles);
    expect(preview.triangles).toBeLessThan(1318);
    for (const v of views) expectImage(await download(stack, id, `${v}.png`), 64, 64);
  }

  it('06_chain_wine_cpu_gpu: wine → cpu → gpu, the wine step on the worker that serves `wine`', async () => {
    const tutorial = '06_chain_wine_cpu_gpu.ts';
    const params = { width: 64, height: 64, previewTriangles: 300 };
    const [here, job] = await Promise.all([runLocally(work, tutorial, params, CONE_STEP), runScheduled(stack, tutorial, params, CONE_STEP)]);
    expect(here.result).toEqual(wineResult);
    expect(job.result).toEqual(steady(here.result));
    expect(here.outputs).toEqual(wineFiles);
    expect((await subTasks(job.uuid, 3)).tasks).toEqual(wineSteps(tutorial));
    await expectWineOutputs(job.uuid, job.result);
  });

  it('06_chain_wine_cpu_gpu_async: the same chain, its id returned at once', async () => {
    const tutorial = '06_chain_wine_cpu_gpu_async.ts';
    const params = { width: 64, height: 64, previewTriangles: 300 };
    const [here, job] = await Promise.all([runLocally(work, tutorial, params, CONE_STEP), runScheduled(stack, tutorial, params, CONE_STEP)]);
    expect(here.result).toEqual({ chain: expect.stringMatching(UUID) });
    expect(job.result).toEqual({ chain: expect.stringMatching(UUID) });
    expect(here.outputs).toEqual(wineFiles);
    const { canvas, tasks } = await subTasks(job.uuid, 3);
    expect(canvas).toBe(job.result.chain);
    expect(tasks).toEqual(wineSteps(tutorial));
    const result = await stack.client.workflow.getHandle(job.result.chain).result();
    expect(result).toEqual(wineResult);
    await expectWineOutputs(job.uuid, result as never);
  });

  it('parallel_process: a chord tessellates each STEP part of a zip in parallel, then merges them into output.glb', async () => {
    // The same zip locally and through the API: both unpack it.
    const zip = path.join(work, 'parts.zip');
    craftZip(zip, [...PART_FILES, NOT_A_PART].map((name) => ({ name, content: fs.readFileSync(path.join(PARTS_DIR, name), 'utf8') }))); // ASCII text
    const params = { pattern: '_prt\\.stp$' };
    const [here, job] = await Promise.all([runLocally(work, 'parallel_process.ts', params, zip), runScheduled(stack, 'parallel_process.ts', params, zip)]);
    expect(here.result).toEqual({ output: 'output.glb', parts: 3, triangles: expect.any(Number) });
    expect(job.result).toEqual(here.result);
    expect(infos(job)).toEqual(['Listing the parts', 'Converting 3 parts in parallel']);

    const partGlbs = PART_FILES.map((f) => `parts/${path.parse(f).name}.glb`);
    expect(here.outputs).toEqual(['output.glb', ...partGlbs]);
    expect(await outputNames(stack, job.uuid)).toEqual(['output.glb', 'parts']);
    const parts = await Promise.all(partGlbs.map(async (f) => glbFacts(await download(stack, job.uuid, f))));
    const merged = await glbFacts(await download(stack, job.uuid, 'output.glb'));
    expect(merged.triangles).toBe(job.result.triangles);
    expect(merged.triangles).toBe(parts.reduce((sum, p) => sum + p.triangles, 0));
    expect(merged.names).toEqual(PART_FILES.map((f) => path.parse(f).name)); // one node per part

    const { tasks } = await subTasks(job.uuid, 4);
    expect(tasks).toEqual([
      { process: 'parallel_process.ts:mergeResult', queue: 'cpu' },
      ...PART_FILES.map(() => ({ process: 'parallel_process.ts:subtask', queue: 'cpu' })),
    ]);
    expect(await scriptQueue(stack, job.uuid)).toBe('control');
  });
});
