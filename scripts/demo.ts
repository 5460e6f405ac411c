/**
 * The main job: starts a Temporal dev server (unless one answers at TEMPORAL_ADDRESS) and a worker,
 * runs the training pipeline on the real flights data, prints metrics, the registered model version and
 * the promotion decision, then scores the second half of June with the champion into the spec's sink,
 * and stops what it started. `--keep` leaves the server running for the Web UI. `--gbdt` (`npm run demo:gbdt`)
 * also starts the Python worker and trains the LightGBM challenger (pipelines/flights-gbdt.yaml) against the
 * logistic champion before scoring with whichever is champion then.
 *   npm run demo [-- --keep] [-- --spec pipelines/flights.yaml]
 */
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { connectionOptions, loadConfig } from '../workers/config';
import { createSluiceWorker } from '../workers/create-worker';
import { dataConverterOf } from '../workers/codec/data-converter';
import { frontendAnswers, startDevServer, stopDevServer } from './dev-server';
import { spawnPythonWorker } from './python-worker';
import { run } from './sluice-cli';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const keep = args.includes('--keep');
  const gbdt = args.includes('--gbdt');
  const specIndex = args.indexOf('--spec');
  const spec = specIndex >= 0 ? args[specIndex + 1] : 'pipelines/flights.yaml';
  const config = loadConfig();
  const port = Number(config.address.split(':').pop());
  const started = Date.now();
  Runtime.install({ logger: new DefaultLogger('WARN') });

  let ownServer = false;
  if (!(await frontendAnswers(config.address))) {
    console.log(`Starting a Temporal dev server on ${config.address} (Web UI ${config.uiUrl}) …`);
    await startDevServer({ port, uiPort: Number(new URL(config.uiUrl).port || 8233) });
    ownServer = true;
  } else {
    console.log(`Using the Temporal server at ${config.address}.`);
  }

  const { worker, connection: workerConnection } = await createSluiceWorker({ config });
  if (gbdt) console.log('Starting the Python worker (LightGBM) …');
  const python = gbdt ? spawnPythonWorker({ TEMPORAL_ADDRESS: config.address, SLUICE_ARTIFACTS: path.resolve(config.artifactRoot) }) : undefined;
  const connection = await Connection.connect(connectionOptions(config));
  const client = new Client({ connection, namespace: config.namespace, dataConverter: dataConverterOf(config.codecKeys) });
  try {
    console.log(`Worker polling task queue "${config.taskQueue}"; artifacts in ${config.artifactRoot}`);
    const code = await worker.runUntil(async () => {
      const print = (line: string) => console.log(line);
      let trained = await run(['train', spec], client, print, config);
      if (gbdt && trained === 0) {
        print('\nThe LightGBM challenger on the same features (the train step runs on the Python worker):');
        trained = await run(['train', 'pipelines/flights-gbdt.yaml'], client, print, config);
      }
      // Scores the second half of June with the champion (this run's model when it was promoted).
      return trained === 0 ? run(['infer', spec, '2001-06-16', '2001-06-30'], client, print, config) : trained;
    });
    if (code !== 0) process.exitCode = code;
    console.log(`Finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  } finally {
    python?.kill('SIGTERM');
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
