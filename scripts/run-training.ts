import type { Client } from '@temporalio/client';
import { runUrl, type SluiceConfig } from '../workers/config';
import { progressQuery, trainPipeline, type TrainPipelineResult, type TrainProgress } from '../workflows/train-pipeline';
import { formatTrainResult, progressChanges } from './format-result';

/** Starts trainPipeline for `spec`, prints each step as it changes, then the result; returns the result. */
export async function runTraining(client: Client, config: SluiceConfig, spec: string): Promise<TrainPipelineResult> {
  const name = spec.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
  const workflowId = `train-${name}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const handle = await client.workflow.start(trainPipeline, { taskQueue: config.taskQueue, workflowId, args: [{ spec }] });
  const url = runUrl(config, workflowId, handle.firstExecutionRunId);
  console.log(`Started trainPipeline ${workflowId}\n  Web UI: ${url}`);
  let last: TrainProgress | undefined;
  const poll = setInterval(() => {
    handle.query(progressQuery).then(
      (p) => {
        for (const line of progressChanges(last, p)) console.log(line);
        last = p;
      },
      () => undefined,
    );
  }, 1000);
  try {
    const result = await handle.result();
    console.log(`\n${formatTrainResult(result)}\n\nRun: ${url}`);
    return result;
  } finally {
    clearInterval(poll);
  }
}
