/**
 * Records the event histories the replay test feeds to the current workflow code: a trainPipeline run on
 * pipelines/flights.yaml, the model registry it updated, a batchInference of one day, a backfill of two
 * days and a rollback. Existing files are kept (older histories guard compatibility with runs started
 * by older code) unless --force; `--tag <tag>` records a new generation beside them as `<type>-<tag>.json`
 * (after a patched change, so both the old and the new code paths stay guarded).
 * Runs on a private dev server:
 *   npx tsx scripts/record-histories.ts [--force] [--tag <tag>]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { spawnSync } from 'node:child_process';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../workers/config';
import { createSluiceWorker } from '../workers/create-worker';
import { registryWorkflowId } from '../contracts/registry';
import { trainPipeline } from '../workflows/train-pipeline';
import { batchInference } from '../workflows/batch-inference';
import { backfill } from '../workflows/backfill';
import { rollbackModel } from '../workflows/rollback';
import { startDevServer, stopDevServer, temporalCliPath } from './dev-server';

const PORT = 7245;
const OUT = path.resolve(__dirname, '..', 'test', 'histories');
const TAG = process.argv.includes('--tag') ? process.argv[process.argv.indexOf('--tag') + 1] : undefined;

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-record-'));
  const server = await startDevServer({ port: PORT, headless: true, stateDir });
  const config = { ...loadConfig(), address: server.address, taskQueue: 'sluice-record' };
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  try {
    const { worker, connection: workerConnection } = await createSluiceWorker({ config });
    await worker.runUntil(async () => {
      const handle = await client.workflow.start(trainPipeline, { taskQueue: config.taskQueue, workflowId: 'recorded-train-flights', args: [{ spec: 'pipelines/flights.yaml' }] });
      const result = await handle.result();
      console.log(`trainPipeline: model v${result.modelVersion}, promoted=${result.promoted}`);
      const inference = await client.workflow.start(batchInference, { taskQueue: config.taskQueue, workflowId: 'recorded-infer-flights', args: [{ spec: 'pipelines/flights.yaml', partition: '2001-06-30' }] });
      console.log(`batchInference: ${(await inference.result()).rows} rows`);
      const filled = await client.workflow.execute(backfill, { taskQueue: config.taskQueue, workflowId: 'recorded-backfill-flights', args: [{ spec: 'pipelines/flights.yaml', from: '2001-06-28', to: '2001-06-29', reprocess: true }] });
      console.log(`backfill: ${filled.published.length} days`);
      await client.workflow.execute(rollbackModel, { taskQueue: config.taskQueue, workflowId: 'recorded-rollback-flights', args: [{ spec: 'pipelines/flights.yaml', toVersion: 1, actor: 'recorder', reason: 'recording a history', reprocess: true }] });
      save('trainPipeline.json', server.address, handle.workflowId);
      save('backfill.json', server.address, 'recorded-backfill-flights');
      save('rollbackModel.json', server.address, 'recorded-rollback-flights');
      save('modelRegistry.json', server.address, registryWorkflowId(result.pipeline));
      save('batchInference.json', server.address, inference.workflowId);
    });
    await workerConnection.close();
  } finally {
    await connection.close();
    await stopDevServer(PORT, stateDir);
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

/** Saves a history as `temporal workflow show --output json` prints it, the form replay reads. */
function save(type: string, address: string, workflowId: string): void {
  const name = TAG ? type.replace(/\.json$/, `-${TAG}.json`) : type;
  if (fs.existsSync(path.join(OUT, name)) && !process.argv.includes('--force')) {
    console.log(`kept test/histories/${name} (--force replaces it)`);
    return;
  }
  const shown = spawnSync(temporalCliPath(), ['workflow', 'show', '--address', address, '-w', workflowId, '--output', 'json'], { encoding: 'utf8' });
  if (shown.status !== 0) throw new Error(`temporal workflow show failed: ${shown.stderr}`);
  // Worker identities name the recording host; they play no part in replay.
  const json = shown.stdout.replace(/"identity":\s*"[^"]*"/g, '"identity": "sluice-worker"');
  fs.mkdirSync(OUT, { recursive: true });
  const idsFile = path.join(OUT, 'workflow-ids.json');
  const ids = fs.existsSync(idsFile) ? (JSON.parse(fs.readFileSync(idsFile, 'utf8')) as Record<string, string>) : {};
  fs.writeFileSync(idsFile, `${JSON.stringify({ ...ids, [name]: workflowId }, null, 2)}\n`);
  fs.writeFileSync(path.join(OUT, name), `${JSON.stringify(JSON.parse(json), null, 1)}\n`);
  console.log(`wrote test/histories/${name}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
