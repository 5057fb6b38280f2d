// The SDK a job script imports as 'pixyz-scheduler'.
export { ProgramContext, type ProgramContextOptions } from './program-context';
export { pixyzSchedule, type ScheduleOptions, type Entrypoint, type ScheduledEntrypoint } from './schedule';
export {
  PixyzException,
  PixyzSharedDirectoryNotFound,
  PixyzFileNotFound,
  PixyzSecurityViolation,
  PixyzNotSerializable,
} from './errors';
export type { ProgressSnapshot, ProgressStep } from '../shared/types';
