// The workflow bundle's entry: every workflow type the worker registers.
export { pixyzJob, statusQuery } from './job';
