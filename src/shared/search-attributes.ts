import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Registered on the server at start-up (see src/shared/temporal.ts); filter runs by them in the
// Temporal UI, e.g. `PixyzStatus = "FAILURE"`.
export const JOB_NAME = defineSearchAttributeKey('PixyzJobName', SearchAttributeType.KEYWORD);
export const JOB_PROCESS = defineSearchAttributeKey('PixyzProcess', SearchAttributeType.KEYWORD);
export const JOB_STATUS = defineSearchAttributeKey('PixyzStatus', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [JOB_NAME, JOB_PROCESS, JOB_STATUS] as const;
