/**
 * The main job: starts a Temporal dev server (unless one answers at TEMPORAL_ADDRESS) and a worker,
 * runs the training pipeline on the real flights data, prints metrics, the registered model version and
 * the promotion decision, and stops what it started. `--keep` leaves the server running for the Web UI.
 *   npm run demo [-- --keep] [-- --spec pipelines/flights.yaml]
 */
import { Client, Connection } from '@temporalio/client';
import { loadConfig, runUrl } from '../workers/config';
import { createSluiceWorker } from '../workers/create-worker';
import { progressQuery, trainPipeline, type TrainProgress } from '../workflows/train-pipeline';
import { frontendAnswers, startDevServer, stopDevServer } from './dev-server';
import { formatTrainResult, progressChanges } from './format-result';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const keep = args.includes('--keep');
  const specIndex = args.indexOf('--spec');
  const spec = specIndex >= 0 ? args[specIndex + 1] : 'pipelines/flights.yaml';
  const config = loadConfig();
  const port = Number(config.address.split(':').pop());
  const started = Date.now();

  let ownServer = false;
  if (!(await frontendAnswers(config.address))) {
    console.log(`Starting a Temporal dev server on ${config.address} (Web UI ${config.uiUrl}) …`);
    await startDevServer({ port });
    ownServer = true;
  } else {
    console.log(`Using the Temporal server at ${config.address}.`);
  }

  const { worker, connection: workerConnection } = await createSluiceWorker({ config });
  const connection = await Connection.connect({ address: config.address });
  const client = new Client({ connection, namespace: config.namespace });
  try {
    await worker.runUntil(async () => {
      const workflowId = `train-flights-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      const handle = await client.workflow.start(trainPipeline, { taskQueue: config.taskQueue, workflowId, args: [{ spec }] });
      console.log(`Started trainPipeline ${workflowId}\n  Web UI: ${runUrl(config, workflowId, handle.firstExecutionRunId)}`);
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
        console.log(`\n${formatTrainResult(result)}`);
        console.log(`\nRun: ${runUrl(config, workflowId, handle.firstExecutionRunId)}`);
        console.log(`Finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
      } finally {
        clearInterval(poll);
      }
    });
  } finally {
    await connection.close();
    await workerConnection.close();
    if (ownServer && !keep) {
      await stopDevServer(port);
      console.log('Stopped the dev server (its state stays in .sluice/temporal; `npm run demo -- --keep` leaves it running for the Web UI).');
    } else if (ownServer) {
      console.log(`The dev server keeps running: Web UI ${config.uiUrl}; stop it with \`npm run server -- stop\`.`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
