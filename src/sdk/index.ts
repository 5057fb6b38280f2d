// The SDK a job script imports as 'pixyz-scheduler'.
export { ProgramContext, type ProgramContextOptions, type ExecuteOptions } from './program-context';
export { AsyncResult } from './async-result';
export { group, chain, chord, CanvasSignature, type Step } from './canvas';
export { LOCAL_JOB_ID } from './local';
export { LocalPixyzTask } from './local-task';
export { pixyzExecute, type PixyzExecuteOptions } from './client';
export { pixyzSchedule, type ScheduleOptions, type Entrypoint, type ScheduledEntrypoint } from './schedule';
export {
  PixyzException,
  PixyzSharedDirectoryNotFound,
  PixyzFileNotFound,
  PixyzSecurityViolation,
  PixyzNotSerializable,
  SubTaskFailed,
} from './errors';
export type { ProgressSnapshot, ProgressStep, TaskSignature, TaskOutput } from '../shared/types';
