import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ArtifactStore } from '../activities/storage/artifact-store';
import { scoreDataset } from '../activities/evaluate/evaluate';
import { rocAuc } from '../activities/evaluate/metrics';
import { loadSpecFile } from '../activities/spec/loader';
import { trainModel } from '../activities/train/train';
import { readDayManifest } from '../activities/sinks/s3-datasets';
import { S3Objects, sharedS3Client } from '../activities/storage/object-store';
import { batchInference } from '../workflows/batch-inference';
import { trainPipeline } from '../workflows/train-pipeline';
import { smallFlightsSpec } from './support/specs';
import type { FeatureSet } from '../contracts/artifacts';

const ROOT = path.resolve(__dirname, '..');
const EventType = temporal.api.enums.v1.EventType;

interface WorkerProcess {
  child: ChildProcess;
  dir: string;
  output: string[];
}

/**
 * One worker process as an operator would start it on a machine of its own: its own working directory
 * and cache, the artifacts in S3, one activity at a time (so parallel work must spread over both).
 */
function startWorker(name: string, env: NodeJS.ProcessEnv): Promise<WorkerProcess> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sluice-${name}-`));
  const child = spawn(process.execPath, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(ROOT, 'workers', 'main.ts')], {
    cwd: dir,
    env: { ...env, SLUICE_CACHE: path.join(dir, 'cache'), SLUICE_SOURCE_CACHE: path.join(dir, 'sources'), SLUICE_WORKER_ACTIVITIES: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const worker = { child, dir, output: [] as string[] };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${name} did not start:\n${worker.output.join('')}`)), 60_000);
    const read = (chunk: Buffer) => {
      worker.output.push(chunk.toString());
      if (worker.output.join('').includes('sluice worker polling')) {
        clearTimeout(timer);
        resolve(worker);
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', (chunk: Buffer) => worker.output.push(chunk.toString()));
    child.once('exit', (code) => reject(new Error(`worker ${name} exited with ${code}:\n${worker.output.join('')}`)));
  });
}

/** The worker identity that ran each activity of a run, by activity id (from the history's started events). */
async function activityWorkers(client: Client, workflowId: string): Promise<Array<{ type: string; identity: string }>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const typeOf = new Map(events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes?.activityType?.name ?? '']));
  return events
    .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED)
    .map((e) => ({ type: typeOf.get(String(e.activityTaskStartedEventAttributes?.scheduledEventId)) ?? '', identity: e.activityTaskStartedEventAttributes?.identity ?? '' }));
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** Every payload of a history, decoded as text. */
function payloadTexts(value: unknown, found: string[] = []): string[] {
  if (value instanceof Uint8Array) return found;
  if (Array.isArray(value)) for (const v of value) payloadTexts(v, found);
  else if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (record.data instanceof Uint8Array && record.metadata) found.push(Buffer.from(record.data).toString('utf8'));
    for (const v of Object.values(record)) payloadTexts(v, found);
  }
  return found;
}

describe('two workers with no shared disk', () => {
  const workers: WorkerProcess[] = [];
  let connection: Connection;
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGTERM');
    await connection?.close();
  });

  it('train and score a pipeline through the S3 artifact store, each doing part of the work', async () => {
    const bucket = process.env.SLUICE_TEST_S3_BUCKET as string;
    const prefix = `two-workers-${process.pid}`;
    const queue = `two-workers-${process.pid}-${Date.now()}`;
    const env = {
      ...process.env,
      TEMPORAL_ADDRESS: process.env.SLUICE_TEST_ADDRESS,
      SLUICE_TASK_QUEUE: queue,
      SLUICE_REGISTRY_TASK_QUEUE: `${queue}-registry`,
      SLUICE_ARTIFACTS: `s3://${bucket}/${prefix}/artifacts`,
      SLUICE_S3_ROOTS: `s3://${bucket}/${prefix}/data,s3://${bucket}/${prefix}/sinks`,
    };
    workers.push(...(await Promise.all([startWorker('a', env), startWorker('b', env)])));

    // The sources are objects too: the workers read them through their caches, not from a disk they share.
    const data = new S3Objects(sharedS3Client(), { bucket, prefix: `${prefix}/data` });
    for (const file of ['flights-3m.parquet', 'airports.csv']) await data.upload(path.join(ROOT, 'node_modules', 'vega-datasets', 'data', file), file);
    const spec = smallFlightsSpec('two-workers', (s) => {
      s.sources = { flights: { path: `s3://${bucket}/${prefix}/data/flights-3m.parquet` }, airports: { path: `s3://${bucket}/${prefix}/data/airports.csv` } };
      // Data-parallel training: Newton's sums over chunks of 80,000 rows, as activities on both workers.
      s.trainer = { type: 'logistic_regression', chunk_rows: 80_000 };
      s.inference = { shard_rows: 15_000, slice_rows: 15_000, max_parallel_shards: 2, sink: { type: 'parquet', path: `s3://${bucket}/${prefix}/sinks/scores` } };
    });
    connection = await Connection.connect({ address: process.env.SLUICE_TEST_ADDRESS as string });
    const client = new Client({ connection });
    const trainId = `two-workers-train-${process.pid}`;
    const inferId = `two-workers-infer-${process.pid}`;
    const trained = await client.workflow.execute(trainPipeline, { args: [{ spec }], taskQueue: queue, workflowId: trainId });
    expect(trained.promoted).toBe(true);
    const scored = await client.workflow.execute(batchInference, { args: [{ spec, from: '2001-01-25', to: '2001-01-28' }], taskQueue: queue, workflowId: inferId });
    expect(scored.shards).toBeGreaterThanOrEqual(2);
    expect(scored.sink).toMatchObject({ rows: scored.rows, days: 4, location: `s3://${bucket}/${prefix}/sinks/scores` });
    const sink = new S3Objects(sharedS3Client(), { bucket, prefix: `${prefix}/sinks/scores` });
    const manifests = await Promise.all(['25', '26', '27', '28'].map((d) => readDayManifest(sink, `2001-01-${d}`)));
    expect(manifests.reduce((sum, m) => sum + (m?.rows ?? 0), 0)).toBe(scored.rows);

    // Each worker did part of the work, and the shards scored in parallel ran on both.
    const ran = [...(await activityWorkers(client, trainId)), ...(await activityWorkers(client, inferId))];
    const identities = new Set(ran.map((r) => r.identity));
    expect(identities.size).toBe(2);
    expect(new Set(ran.filter((r) => r.type === 'scoreShard').map((r) => r.identity))).toEqual(identities);
    // The fit ran as a child workflow whose chunk activities both workers took.
    const fits = [];
    for await (const run of client.workflow.list({ query: `WorkflowType = 'fitLogistic' AND WorkflowId STARTS_WITH '${trainId}-fit-'` })) fits.push(run.workflowId);
    expect(fits).toHaveLength(1);
    const chunkRuns = (await activityWorkers(client, fits[0])).filter((r) => r.type === 'logisticChunkSums');
    expect(chunkRuns.length).toBeGreaterThanOrEqual(3 * 5); // ≥ 3 passes of ≥ 5 chunks (4 fit, 1 holdout)
    expect(new Set(chunkRuns.map((r) => r.identity))).toEqual(identities);

    // The artifacts are in S3; neither worker's disk holds them all, and nothing was written outside each worker's own folder.
    const objects = await new S3Objects(sharedS3Client(), { bucket, prefix: `${prefix}/artifacts` }).list('');
    const stored = new Set(objects.map((o) => o.key.split('/').slice(0, 2).join('/')));
    expect([...stored].filter((k) => /^(extract|features|models)\//.test(k))).toHaveLength(3);
    expect(objects.some((o) => o.key.startsWith('inference/'))).toBe(false); // staging removed after publishing
    expect(objects.some((o) => o.key.startsWith('reports/'))).toBe(true);
    for (const w of workers) expect(fs.existsSync(path.join(w.dir, '.sluice', 'artifacts'))).toBe(false);
    // Each worker that ran a data step read the sources from its own copy.
    expect(workers.filter((w) => fs.existsSync(path.join(w.dir, 'sources'))).length).toBeGreaterThan(0);

    // The data-parallel model is the in-memory trainer's: same iterations, scores within 2e-5, AUC to 4 decimals.
    const store = new ArtifactStore(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-two-workers-check-')), new S3Objects(sharedS3Client(), { bucket, prefix: `${prefix}/artifacts` }));
    const featuresKey = objects.find((o) => /^features\/[0-9a-f]+\/_manifest\.json$/.test(o.key))?.key as string;
    const features = (await store.find<FeatureSet>('features', featuresKey.split('/')[1])) as FeatureSet;
    const loaded = loadSpecFile(spec);
    const trainer = { ...loaded.spec.trainer };
    if (trainer.type === 'logistic_regression') delete trainer.chunk_rows;
    const inMemory = await trainModel(store, { loaded: { ...loaded, spec: { ...loaded.spec, trainer } }, features });
    expect(trained.steps.find((s) => s.name === 'train')?.detail).toBe(`${inMemory.model.training.iterations} iterations, ${inMemory.model.training.stopReason}`);
    const parallelScores = await scoreDataset(store, trained.modelUri, features.validate, features.label);
    const inMemoryScores = await scoreDataset(store, inMemory.model.uri, features.validate, features.label);
    expect(maxDifference(parallelScores.scores, inMemoryScores.scores)).toBeLessThan(2e-5);
    expect(rocAuc(parallelScores.scores, parallelScores.labels).toFixed(4)).toBe(rocAuc(inMemoryScores.scores, inMemoryScores.labels).toFixed(4));

    // Histories carry artifact URIs, never the store's credentials.
    for (const id of [trainId, inferId]) {
      const text = payloadTexts(await client.workflow.getHandle(id).fetchHistory()).join('\n');
      expect(text).toContain('artifact:models/');
      for (const secret of [process.env.AWS_SECRET_ACCESS_KEY, process.env.AWS_ACCESS_KEY_ID]) expect(text).not.toContain(secret);
    }
  });
});
