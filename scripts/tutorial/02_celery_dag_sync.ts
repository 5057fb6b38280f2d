// A pseudo-distributed checksum, joined synchronously. main (on the control queue, where scripts
// that wait live) splits the input file into 4 parts in its outputs, then runs a chord: 4
// `subtask` jobs, each with a fresh context (its own job directory) whose input is one part,
// then `mergeResult` with the list of their results. main waits for the chord and returns it.
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
  const input = pc.getInputFile()!;
  const crc = zlib.crc32(fs.readFileSync(input));
  console.log(`crc32 of ${input} is ${crc}`);
  return { crc };
}

export async function mergeResult(pc: ProgramContext, results: TaskOutput[]): Promise<{ crc32: number }> {
  pc.progressNext(`Merging ${results.length} results`);
  await workload({ sleep: 0 });
  return { crc32: results.reduce((sum, r) => sum + (r.result as { crc: number }).crc, 0) };
}

/** Writes the 4 parts and returns the chord that checksums them. */
function checksumChord(pc: ProgramContext, params: Params) {
  pc.progressSetTotal(1 + PARTS);
  pc.progressNext('splitting file');
  const data = fs.readFileSync(pc.getInputFile()!);
  const parts = Array.from({ length: PARTS }, (_, i) => {
    const file = pc.getOutputDir(`crc_part${i}`);
    fs.writeFileSync(file, data.subarray(Math.floor((i * data.length) / PARTS), Math.floor(((i + 1) * data.length) / PARTS)));
    return file;
  });
  pc.progressNext('chord');
  const script = pc.options.script;
  return chord(
    parts.map((part) => new ProgramContext({ script, data: part, entrypoint: 'subtask' }).signature({ sleep: params.sleep })),
    new ProgramContext({ script, entrypoint: 'mergeResult', raw: true }).signature(),
  );
}

export const main = pixyzSchedule({ queue: 'control' }, async (pc: ProgramContext, params: Params) => {
  return checksumChord(pc, params).applyAsync().get();
});
