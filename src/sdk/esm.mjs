// The SDK for ES-module scripts: the very module instance CommonJS scripts and the runner get
// (through require), with named exports. test/unit/sdk.test.ts checks it lists every export.
import { createRequire } from 'node:module';

const sdk = createRequire(import.meta.url)('./index');

export const {
  ProgramContext,
  AsyncResult,
  group,
  chain,
  chord,
  CanvasSignature,
  LocalPixyzTask,
  LOCAL_JOB_ID,
  pixyzExecute,
  pixyzSchedule,
  PixyzException,
  PixyzSharedDirectoryNotFound,
  PixyzFileNotFound,
  PixyzSecurityViolation,
  PixyzNotSerializable,
  SubTaskFailed,
} = sdk;
export default sdk;
