// The checksum chord of 02_celery_dag_sync, started and left to run: main returns the chord's
// id at once (upstream returns its ids). The job still ends only when the chord has; its
// result is then the id, and the chord's own result is read with that id.
//
//   params: { "sleep": 1 }   seconds each step pretends to work (default: 1 to 3, at random)
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import zlib from 'node:zlib';
import { chord, pixyzSchedule, ProgramContext, type TaskOutput } from 'pixyz-scheduler';

interface Params {
  sleep?: number;
}

const PARTS = 4;
const workload = (params: Params) => sleep(1000 * (params.sleep ?? 1 + Math.floor(Math.random() * 3)));

export async function subtask(pc: ProgramContext, params: Params): Promise<{ crc: number }> {
  await workload(params);
  return { crc: zlib.crc32(fs.readFileSync(pc.getInputFile()!)) };
}

export async function mergeResult(pc: ProgramContext, results: TaskOutput[]): Promise<{ crc32: number }> {
  pc.progressNext(`Merging ${results.length} results`);
  return { crc32: results.reduce((sum, r) => sum + (r.result as { crc: number }).crc, 0) };
}

export const main = pixyzSchedule({ queue: 'control' }, async (pc: ProgramContext, params: Params) => {
  pc.progressSetTotal(1 + PARTS);
  pc.progressNext('splitting file');
  const data = fs.readFileSync(pc.getInputFile()!);
  const script = pc.options.script;
  const subtasks = Array.from({ length: PARTS }, (_, i) => {
    const part = pc.getOutputDir(`crc_part${i}`);
    fs.writeFileSync(part, data.subarray(Math.floor((i * data.length) / PARTS), Math.floor(((i + 1) * data.length) / PARTS)));
    return new ProgramContext({ script, data: part, entrypoint: 'subtask' }).signature({ sleep: params.sleep });
  });
  pc.progressNext('chord');
  const started = chord(subtasks, new ProgramContext({ script, entrypoint: 'mergeResult', raw: true }).signature()).applyAsync();
  return { chord: started.id };
});
