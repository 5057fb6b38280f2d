import { settleStarts } from './canvas';
import { currentBackend } from './backend';
import { LocalBackend } from './local';
import { callEntrypoint, loadEntrypoint } from './load';
import { ProgramContext } from './program-context';

/** Upstream's LocalPixyzTask: run one entrypoint of a script here and now. */
export const LocalPixyzTask = {
  /**
   * Runs `entrypoint` of `script` with `params`, writing outputs to `outputDir`, and returns what
   * it returned. Sub-tasks it starts run in this process.
   */
  async fromCommandline(
    script: string,
    outputDir: string,
    entrypoint = 'main',
    params: unknown = {},
    inputFile: string | null = null,
    onProgress?: (pc: ProgramContext) => void,
  ): Promise<unknown> {
    const pc = ProgramContext.fromLocal(script, inputFile, outputDir).update({ entrypoint, params });
    if (onProgress) ProgramContext.attachReporter(pc, () => onProgress(pc));
    const fn = await loadEntrypoint(pc.options.script!, entrypoint);
    const result = await callEntrypoint(fn, pc, params);
    pc.progressStop();
    await settleStarts();
    const backend = currentBackend();
    if (backend instanceof LocalBackend) await backend.drain();
    return result;
  },
};
