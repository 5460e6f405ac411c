import type { WorkflowHandle } from '@temporalio/client';

/** The last heartbeat of the run's pending Python train step (`trainPython`), as the server keeps it. */
export async function trainingBeat(handle: WorkflowHandle): Promise<{ iteration: number } | undefined> {
  const pending = ((await handle.describe()).raw.pendingActivities ?? []).find((a) => a.activityType?.name === 'trainPython');
  const data = pending?.heartbeatDetails?.payloads?.[0]?.data;
  return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { iteration: number }) : undefined;
}
