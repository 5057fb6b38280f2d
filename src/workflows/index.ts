// The workflow bundle's entry: every workflow type the worker registers.
export { pixyzJob, statusQuery, spawnUpdate } from './job';
export { pixyzCanvas } from './children';
export { pixyzWarmUp } from './warm-up';
