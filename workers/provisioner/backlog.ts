import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const { TaskQueueType } = temporal.api.enums.v1;

export interface Backlog {
  /** Workflow and activity tasks waiting on the queues, as Temporal approximates them. */
  count: number;
  /** Age of the oldest waiting task, in seconds. */
  ageSeconds: number;
}

/** The backlog of `queues`, workflow and activity tasks together (DescribeTaskQueue with reportStats). */
export async function readBacklog(client: Client, queues: string[]): Promise<Backlog> {
  const kinds = [TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY];
  const answers = await Promise.all(
    queues.flatMap((name) => kinds.map((taskQueueType) => client.workflowService.describeTaskQueue({ namespace: client.options.namespace, taskQueue: { name }, taskQueueType, reportStats: true }))),
  );
  let count = 0;
  let ageSeconds = 0;
  for (const { stats } of answers) {
    count += Number(stats?.approximateBacklogCount ?? 0);
    const age = stats?.approximateBacklogAge;
    ageSeconds = Math.max(ageSeconds, Number(age?.seconds ?? 0) + (age?.nanos ?? 0) / 1e9);
  }
  return { count, ageSeconds };
}
