import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { dataConverterOf } from '../../workers/codec/data-converter';
import { TEST_KEY_1, TEST_KEY_2, testKeys } from './codec';

/** Causes of a failed workflow task that come from the server's bookkeeping, not from workflow code. */
const BENIGN = new Set([
  temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
  temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_STICKY_TASK_QUEUE,
]);

/**
 * Every workflow task that failed in any run on the server at `address`, as `workflow id: cause: message`.
 * Workflow code must never fail a task (a task failure retries forever): bad input becomes a failed step.
 */
export async function failedWorkflowTasks(address: string): Promise<string[]> {
  const connection = await Connection.connect({ address });
  try {
    // The encryption tests' runs are encrypted under the test keys.
    const client = new Client({ connection, dataConverter: dataConverterOf(testKeys(`${TEST_KEY_2},${TEST_KEY_1}`)) });
    const found: string[] = [];
    for await (const run of client.workflow.list()) {
      const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
      for (const event of history.events ?? []) {
        const failed = event.workflowTaskFailedEventAttributes;
        if (!failed || BENIGN.has(failed.cause ?? 0)) continue;
        const cause = temporal.api.enums.v1.WorkflowTaskFailedCause[failed.cause ?? 0];
        found.push(`${run.workflowId}: ${cause}: ${failed.failure?.message ?? ''}`);
      }
    }
    return found;
  } finally {
    await connection.close();
  }
}
