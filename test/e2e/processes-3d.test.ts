// The 3D processes through the HTTP API: a model in, a correct model or description out.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeMetadata, loadModel, saveModel } from '../../src/geometry';
import { PNG } from 'pngjs';
import { glbJson } from '../../src/geometry/gltf';
import { assembly } from '../helpers/models';
import { craftZip } from '../helpers/zip';
import { JOB_PROCESS } from '../../src/shared/search-attributes';
import { details, eventually, startStack, submit, waitForEnd, type Stack } from '../helpers/stack';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixyz-3d-'));
let stack: Stack;
let glb: Buffer;
beforeAll(async () => {
  stack = await startStack();
  await saveModel(assembly(), path.join(dir, 'assembly.glb'));
  glb = fs.readFileSync(path.join(dir, 'assembly.glb'));
});
afterAll(async () => {
  await stack?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('convert_file', () => {
  it('converts with upstream’s steps and result, and the output has the model’s facts', async () => {
    const { body } = await submit(stack, { process: 'convert_file', file: { name: 'assembly.glb', content: glb }, params: { extension: 'OBJ' } });
    const final = await waitForEnd(stack, body.uuid);
    expect(final.error).toBeNull();
    expect(final.result).toEqual({ output: 'output.obj' });
    expect(final.steps.map((s: { info: string }) => s.info)).toEqual([
      'Importing file inputs/assembly.glb',
      'Exporting file to outputs/output.obj',
      'done',
    ]); // paths in the job's directory, never the server's
    const outputs = (await (await stack.api(`/jobs/${body.uuid}/outputs`)).json()) as { outputs: string[] };
    expect(outputs.outputs).toEqual(['output.mtl', 'output.obj']);
    for (const name of outputs.outputs) fs.writeFileSync(path.join(dir, name), Buffer.from(await (await stack.api(`/jobs/${body.uuid}/outputs/${name}`)).arrayBuffer()));
    const back = await loadModel(path.join(dir, 'output.obj'));
    expect(computeMetadata(back.document, back)).toMatchObject({ polygon_count: 24, mesh_vertex_count: 16, part_count: 2, material_count: 2 });
  });

  it('takes a textured OBJ as a zip with root_file, and writes a Draco-compressed, simplified GLB with the texture', async () => {
    const png = new PNG({ width: 2, height: 2 });
    png.data.fill(200);
    const grid = [];
    for (let y = 0; y <= 10; y++) for (let x = 0; x <= 10; x++) grid.push(`v ${x / 10} ${y / 10} 0`, `vt ${x / 10} ${y / 10}`);
    for (let y = 0; y < 10; y++) {
      for (let x = 0; x < 10; x++) {
        const i = y * 11 + x + 1;
        grid.push(`f ${i}/${i} ${i + 1}/${i + 1} ${i + 12}/${i + 12}`, `f ${i}/${i} ${i + 12}/${i + 12} ${i + 11}/${i + 11}`);
      }
    }
    const zip = path.join(dir, 'textured.zip');
    craftZip(zip, [
      { name: 'model/plane.obj', content: ['mtllib plane.mtl', 'usemtl paint', ...grid].join('\n') },
      { name: 'model/plane.mtl', content: 'newmtl paint\nKd 1 1 1\nmap_Kd tex/paint.png\n' },
      { name: 'model/tex/paint.png', base64: PNG.sync.write(png).toString('base64') },
    ]);
    const { body } = await submit(stack, {
      process: 'convert_file',
      file: { name: 'textured.zip', content: fs.readFileSync(zip) },
      params: { compression: 'draco', simplify: 0.5, weld: true },
      config: { root_file: 'model/plane.obj' },
    });
    const final = await waitForEnd(stack, body.uuid);
    expect(final.error).toBeNull();
    const out = path.join(dir, 'draco.glb');
    fs.writeFileSync(out, Buffer.from(await (await stack.api(`/jobs/${body.uuid}/outputs/output.glb`)).arrayBuffer()));
    const json = glbJson(fs.readFileSync(out)) as { extensionsRequired: string[]; images: unknown[] };
    expect(json.extensionsRequired).toEqual(['KHR_draco_mesh_compression']);
    expect(json.images).toHaveLength(1);
    const back = await loadModel(out);
    const triangles = computeMetadata(back.document, back).polygon_count!;
    expect(triangles).toBeGreaterThan(0);
    expect(triangles).toBeLessThanOrEqual(100); // 200 before simplify: 0.5
  });

  it('refuses a bad option before reading the model', async () => {
    const { body } = await submit(stack, { process: 'convert_file', file: { name: 'assembly.glb', content: glb }, params: { extension: 'stl', compression: 'draco' } });
    const final = await waitForEnd(stack, body.uuid);
    expect(final.status).toBe('FAILURE');
    expect(final.error).toBe('compression applies to glb and gltf outputs, not stl');
  });

  it('refuses the proprietary .pxz at submission, naming what it supports', async () => {
    const { status, body } = await submit(stack, { process: 'convert_file', file: { name: 'assembly.glb', content: glb }, params: { extension: 'pxz' } });
    expect(status).toBe(400);
    expect(body.detail.details).toBe("Invalid params for 'convert_file': 'extension' must be one of glb, gltf, obj, stl, ply, not \"pxz\"");
  });
});

describe('generate_metadata', () => {
  it('returns upstream’s keys with facts, and writes metadata.json with the node tree', async () => {
    const { body } = await submit(stack, { process: 'generate_metadata', file: { name: 'assembly.glb', content: glb } });
    const final = await waitForEnd(stack, body.uuid);
    expect(final.error).toBeNull();
    expect(final.steps.map((s: { info: string }) => s.info)).toEqual(["Importing file 'assembly.glb'", 'Generating metadata', "Export 'metadata.json'"]);
    expect(final.result.metadata).toMatchObject({ part_count: 2, material_count: 2, polygon_count: 24, mesh_vertex_count: 16, brep_body_count: null, units: 'm' });
    expect(final.result.metadata.nodes).toBeUndefined();
    const file = JSON.parse(await (await stack.api(`/jobs/${body.uuid}/outputs/metadata.json`)).text());
    expect(file.nodes[1]).toEqual({ name: 'group', triangles: 0, children: [{ name: 'wheel', triangles: 12, children: [] }] });
  });

  it('fails clearly on a file that is not a model', async () => {
    const { body } = await submit(stack, { process: 'generate_metadata', file: { name: 'notes.stl', content: 'hello' } });
    const final = await waitForEnd(stack, body.uuid);
    expect(final.status).toBe('FAILURE');
    expect(final.error).toMatch(/^'notes.stl' is neither an ASCII STL/);
  });
});

describe('generate_thumbnails', () => {
  it('renders the four views, a preview and the metadata, in upstream’s result shape', async () => {
    const { body } = await submit(stack, { process: 'generate_thumbnails', file: { name: 'assembly.glb', content: glb }, params: { width: 128, height: 96 } });
    const final = await waitForEnd(stack, body.uuid);
    expect(final.error).toBeNull();
    expect(final.result).toMatchObject({
      thumbs: { iso: 'iso.png', x: 'x.png', y: 'y.png', z: 'z.png' },
      preview: { file: 'preview.glb', size: '128x96' },
      metadata: { polygon_count: 24, part_count: 2 },
      process_duration: expect.any(Number),
    });
    const outputs = (await (await stack.api(`/jobs/${body.uuid}/outputs`)).json()) as { outputs: string[] };
    expect(outputs.outputs).toEqual(['iso.png', 'metadata.json', 'preview.glb', 'x.png', 'y.png', 'z.png']);
    const { PNG } = await import('pngjs');
    for (const view of ['iso', 'x', 'y', 'z']) {
      const png = PNG.sync.read(Buffer.from(await (await stack.api(`/jobs/${body.uuid}/outputs/${view}.png`)).arrayBuffer()));
      expect([png.width, png.height]).toEqual([128, 96]);
      let opaque = 0;
      for (let i = 3; i < png.data.length; i += 4) if (png.data[i]! > 127) opaque++;
      expect(opaque, view).toBeGreaterThan(100); // not blank
    }
    fs.writeFileSync(path.join(dir, 'preview.glb'), Buffer.from(await (await stack.api(`/jobs/${body.uuid}/outputs/preview.glb`)).arrayBuffer()));
    const preview = await loadModel(path.join(dir, 'preview.glb'));
    expect(computeMetadata(preview.document, preview).polygon_count).toBe(24);
  });
});

describe('thumbnail_chained', () => {
  it('runs load-and-metadata on cpu then the screenshots on gpu, as child workflows, all outputs in the job', async () => {
    const { body } = await submit(stack, { process: 'thumbnail_chained', file: { name: 'assembly.glb', content: glb }, params: { width: 64, height: 64 } });
    const final = await waitForEnd(stack, body.uuid, () => {}, 90_000);
    expect(final.error).toBeNull();
    expect(final.result).toMatchObject({
      width: 64,
      height: 64,
      glb: 'export.glb',
      preview: { file: 'preview.glb', size: '64x64' },
      metadata: { polygon_count: 24 },
      thumbs: { iso: 'iso.png', x: 'x.png', y: 'y.png', z: 'z.png' },
    });
    const outputs = (await (await stack.api(`/jobs/${body.uuid}/outputs`)).json()) as { outputs: string[] };
    expect(outputs.outputs).toEqual(['export.glb', 'iso.png', 'metadata.json', 'preview.glb', 'x.png', 'y.png', 'z.png']);
    // The chain is a child workflow of the job; its two steps are children of the chain.
    const kids: { type: string; id: string }[] = [];
    for await (const wf of stack.client.workflow.list({ query: `ParentWorkflowId = "${body.uuid}"` })) kids.push({ type: wf.type, id: wf.workflowId });
    expect(kids.map((k) => k.type)).toEqual(['pixyzCanvas']);
    const steps: string[] = [];
    for await (const wf of stack.client.workflow.list({ query: `ParentWorkflowId = "${kids[0]!.id}"` })) {
      steps.push(String(wf.typedSearchAttributes.get(JOB_PROCESS)));
    }
    expect(steps.sort()).toEqual(['thumbnail_chained:loadFileAndMetadata', 'thumbnail_chained:screenshot']);
  });
});

describe('a long CAD import', () => {
  // 24 plates, 2,208 B-rep faces: OpenCascade tessellates for several seconds in one WebAssembly call.
  const plates = () => zlib.gunzipSync(fs.readFileSync(path.join(__dirname, '../../bench/fixtures/plates.step.gz')));

  /** Processes whose working directory is the job's outputs/: its script process (Linux /proc). */
  function scriptProcesses(jobId: string): number[] {
    const outputs = path.join(stack.sharePath, jobId, 'outputs');
    return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/cwd`) === outputs;
      } catch {
        return false;
      }
    });
  }

  it('is killed by cancel within 2 s, while OpenCascade runs', async () => {
    const { body } = await submit(stack, { process: 'generate_metadata', file: { name: 'plates.step', content: plates() } });
    await eventually(async () => ((await details(stack, body.uuid)).steps?.[0]?.info?.startsWith('Importing') ? true : undefined), 30_000);
    await new Promise((r) => setTimeout(r, 500)); // inside the tessellation now
    expect(scriptProcesses(body.uuid).length).toBeGreaterThan(0);
    const cancelled = Date.now();
    await stack.api(`/jobs/${body.uuid}/cancel`, { method: 'POST' });
    await eventually(() => (scriptProcesses(body.uuid).length === 0 ? true : undefined), 2000, 50);
    expect(Date.now() - cancelled).toBeLessThan(2000);
    expect((await waitForEnd(stack, body.uuid)).status).toBe('REVOKED');
    expect(fs.readdirSync(path.join(stack.sharePath, body.uuid, 'outputs'))).toEqual([]);
  });

  it('is stopped by the time limit, with upstream’s message', async () => {
    const { body } = await submit(stack, { process: 'convert_file', file: { name: 'plates.step', content: plates() }, config: { time_limit: 2, retries: 0 } });
    const final = await waitForEnd(stack, body.uuid, () => {}, 60_000);
    expect(final.status).toBe('FAILURE');
    expect(final.error).toBe('Task process timeout'); // upstream's text
    expect(scriptProcesses(body.uuid)).toEqual([]);
    expect(fs.readdirSync(path.join(stack.sharePath, body.uuid, 'outputs'))).toEqual([]);
  });
});
