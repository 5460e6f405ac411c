import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { sqlString, withDuckDB } from '../activities/sql/duckdb';
import { startDevServer, stopDevServer } from '../scripts/dev-server';
import { batchInference, inferenceProgressQuery } from '../workflows/batch-inference';
import { trainPipeline } from '../workflows/train-pipeline';
import { eventually } from './support/eventually';
import { kill, startWorkerProcess } from './support/processes';
import { flightsSpec, smallFlightsSpec, writeSpec } from './support/specs';
import { harness, TEST_ARTIFACTS, type TestHarness } from './support/temporal';
import type { ModelArtifact } from '../contracts/artifacts';

/**
 * Durability proven by killing real processes: a worker in the middle of a scoring shard, a worker in
 * the middle of training, and the Temporal server in the middle of a pipeline.
 */
const FLIGHTS = path.resolve(__dirname, '..', 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');
let h: TestHarness;
let work: string;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  h = await harness('faults');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-faults-'));
});
afterEach(async () => {
  // Each test starts with no worker process of an earlier one still polling the queue.
  for (const w of workers.splice(0)) await kill(w);
});
afterAll(async () => {
  await h?.close();
});

function workerEnv(address = h.config.address): Record<string, string> {
  return { TEMPORAL_ADDRESS: address, SLUICE_TASK_QUEUE: h.config.taskQueue, SLUICE_ARTIFACTS: TEST_ARTIFACTS };
}

async function worker(address?: string): Promise<ChildProcess> {
  const child = await startWorkerProcess(workerEnv(address));
  workers.push(child);
  return child;
}

/** The last heartbeat details of the pending activity of `type`, as the server keeps them. */
async function heartbeat<T>(handle: WorkflowHandle, type: string): Promise<T | undefined> {
  const described = await handle.describe();
  const pending = (described.raw.pendingActivities ?? []).find((a) => a.activityType?.name === type);
  const data = pending?.heartbeatDetails?.payloads?.[0]?.data;
  return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as T) : undefined;
}

/** A training spec on the whole flights training window that runs 40 Newton steps (a few seconds). */
function slowTraining(name: string, l2: number): string {
  const spec = flightsSpec();
  spec.name = name;
  spec.trainer = { type: 'logistic_regression', l2, max_iterations: 40, tolerance: 1e-300, patience: 40 };
  spec.execution = { heartbeat_timeout: '8s' };
  spec.on_failure = { wait_for_operator: false };
  // The example's data checks are data-checks.test.ts's subject; here they would only add a step to a long run.
  delete spec.checks;
  return writeSpec(name, spec);
}

function modelManifest(uri: string): ModelArtifact {
  return JSON.parse(fs.readFileSync(path.join(TEST_ARTIFACTS, uri.replace(/^artifact:/, '').replace(/model\.onnx$/, '_manifest.json')), 'utf8')) as ModelArtifact;
}

describe('fault injection with real processes', () => {
  it('SIGKILL of a worker mid-shard: another worker resumes from the last checkpoint, no row lost or doubled', async () => {
    const sink = path.join(work, 'shard-kill');
    const spec = smallFlightsSpec('fi-shard', (s) => {
      s.inference = { shard_rows: 3_000_000, slice_rows: 1, max_parallel_shards: 1, sink: { type: 'parquet', path: sink } };
      s.execution = { heartbeat_timeout: '3s' };
      s.on_failure = { wait_for_operator: false };
    });
    await h.withWorker(() => h.client.workflow.execute(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `fi-shard-train-${process.pid}` }));
    const first = await worker();
    const handle = await h.client.workflow.start(batchInference, { args: [{ spec, from: '2001-01-25', to: '2001-06-30' }], taskQueue: h.config.taskQueue, workflowId: `fi-shard-${process.pid}` });
    const beat = await eventually(() => heartbeat<{ slicesDone: number; slices: number }>(handle, 'scoreShard'), (b) => b !== undefined && b.slicesDone >= 1, 'a shard checkpoint');
    expect(beat?.slicesDone).toBeLessThan(beat?.slices ?? 0);
    await kill(first);
    await worker();
    const result = await handle.result();
    const progress = await handle.query(inferenceProgressQuery);
    expect(progress.shards).toHaveLength(1);
    expect(progress.shards[0].resumedFromSlice).toBeGreaterThanOrEqual(1);
    const difference = await withDuckDB(async (c) => {
      const out = `SELECT date, origin, destination FROM read_parquet(${sqlString(path.join(sink, '*', '*.parquet'))})`;
      const source = `SELECT date, origin, destination FROM read_parquet(${sqlString(FLIGHTS)}) WHERE CAST(date AS DATE) BETWEEN DATE '2001-01-25' AND DATE '2001-06-30'`;
      return Number((await c.runAndReadAll(`SELECT (SELECT count(*) FROM (${out} EXCEPT ALL ${source})) + (SELECT count(*) FROM (${source} EXCEPT ALL ${out}))`)).getRowsJS()[0][0]);
    });
    expect(difference).toBe(0);
    expect(result.days).toBe(157);
  });

  it('SIGKILL of a worker mid-training: the retried attempt resumes from the checkpointed iteration', async () => {
    const spec = slowTraining('fi-train', 0.00021);
    const first = await worker();
    const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `fi-train-${process.pid}` });
    const beat = await eventually(() => heartbeat<{ iteration: number; fingerprint: string }>(handle, 'train'), (b) => (b?.iteration ?? 0) >= 2, 'a training checkpoint');
    // The checkpoint on disk is written every iteration, heartbeats only every few seconds: the retry must start from the newer.
    const checkpoint = path.join(TEST_ARTIFACTS, 'checkpoints', `${beat?.fingerprint}.json`);
    const iterationOnDisk = (JSON.parse(fs.readFileSync(checkpoint, 'utf8')) as { iteration: number }).iteration;
    await kill(first);
    await worker();
    const result = await handle.result();
    const training = modelManifest(result.modelUri).training;
    expect(training.resumedFrom).toBeGreaterThanOrEqual(Math.max(2, iterationOnDisk));
    expect(training.iterations).toBe(40);
    expect(result.steps.find((s) => s.name === 'train')?.detail).toContain(`resumed after iteration ${training.resumedFrom}`);
  });

  it('the Temporal server stopped mid-pipeline and started again on its SQLite file: the run completes', async () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-restart-'));
    const port = 7248;
    const server = await startDevServer({ port, headless: true, stateDir });
    const spec = slowTraining('fi-server', 0.00031);
    const w = await worker(server.address);
    let connection = await Connection.connect({ address: server.address });
    try {
      let client = new Client({ connection });
      const workflowId = `fi-server-${process.pid}`;
      const handle = await client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId });
      await eventually(() => heartbeat<{ iteration: number }>(handle, 'train'), (b) => (b?.iteration ?? 0) >= 1, 'training to be under way');
      expect(await stopDevServer(port, stateDir)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await startDevServer({ port, headless: true, stateDir });
      await connection.close();
      connection = await Connection.connect({ address: server.address });
      client = new Client({ connection });
      const result = await client.workflow.getHandle<typeof trainPipeline>(workflowId).result();
      expect(result.modelVersion).toBe(1);
      // The attempt that finished while the server was down could not report; its retry finds the stored model.
      expect(['done', 'reused']).toContain(result.steps.find((s) => s.name === 'train')?.status);
      expect(w.exitCode).toBeNull(); // the same worker rode out the outage
    } finally {
      await connection.close();
      await stopDevServer(port, stateDir);
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
