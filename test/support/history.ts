import type { WorkflowHandle } from '@temporalio/client';

/** The activities a run scheduled, in order: their type and the task queue each went to. */
export async function scheduledActivities(handle: WorkflowHandle): Promise<Array<{ type: string; queue: string }>> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const a = e.activityTaskScheduledEventAttributes;
    return a ? [{ type: a.activityType?.name ?? '', queue: a.taskQueue?.name ?? '' }] : [];
  });
}
