// The floor: what Temporal alone costs for a job's shape on this server — one workflow on the
// control queue running one no-op activity on the script's queue. No process, no share, no API.
import { proxyActivities } from '@temporalio/workflow';

export interface FloorInput {
  activityQueue: string;
}

export async function floorJob({ activityQueue }: FloorInput): Promise<{ ok: true }> {
  const { noop } = proxyActivities<{ noop(): Promise<void> }>({
    taskQueue: activityQueue,
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 1 },
  });
  await noop();
  return { ok: true };
}
