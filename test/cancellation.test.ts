import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { batchInference } from '../workflows/batch-inference';
import { SluiceStatus } from '../contracts/search-attributes';
import { trainPipeline } from '../workflows/train-pipeline';
import { eventually } from './support/eventually';
import { kill, startWorkerProcess } from './support/processes';
import { smallFlightsSpec } from './support/specs';
import { harness, TEST_ARTIFACTS, type TestHarness } from './support/temporal';
import { recordHistory } from './support/record-history';

/**
 * Cancelling a run stops its work: with a real worker process, a cancelled training or scoring run ends
 * `cancelled` within the heartbeat timeout, with no activity still running, no staging left and nothing
 * published.
 */
let h: TestHarness;
let work: string;
let worker: ChildProcess | undefined;

beforeAll(async () => {
  h = await harness('cancel');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-cancel-'));
  worker = await startWorkerProcess({ TEMPORAL_ADDRESS: h.config.address, SLUICE_TASK_QUEUE: h.config.taskQueue, SLUICE_ARTIFACTS: TEST_ARTIFACTS });
});
afterAll(async () => {
  if (worker) await kill(worker);
  await h?.close();
});

/** The activity types a run has pending (scheduled or running) now. */
async function pending(handle: WorkflowHandle): Promise<string[]> {
  return ((await handle.describe()).raw.pendingActivities ?? []).map((a) => a.activityType?.name ?? '');
}

async function cancelled(handle: WorkflowHandle): Promise<WorkflowFailedError> {
  const err = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  return err as WorkflowFailedError;
}

describe('cancellation cleans up', () => {
  it('cancelling during training stops the trainer within the heartbeat timeout, and the run ends cancelled', async () => {
    const spec = smallFlightsSpec('cancel-train', (s) => {
      s.trainer = { type: 'logistic_regression', l2: 0.00017, max_iterations: 1000, tolerance: 1e-300, patience: 1000 };
      s.execution = { heartbeat_timeout: '5s' };
    });
    const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `cancel-train-${process.pid}` });
    await eventually(() => pending(handle), (types) => types.includes('train'), 'training to be under way', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const asked = Date.now();
    await handle.cancel();
    const err = await cancelled(handle);
    recordHistory(handle, 'cancelled-training');
    expect(Date.now() - asked).toBeLessThan(5_000 + 2_000);
    expect(err.cause?.name).toBe('CancelledFailure');
    const described = await handle.describe();
    expect(described.status.name).toBe('CANCELLED');
    expect(described.raw.pendingActivities ?? []).toEqual([]);
    expect(described.typedSearchAttributes.get(SluiceStatus)).toBe('cancelled');
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.some((e) => e.activityTaskCanceledEventAttributes)).toBe(true); // the trainer acknowledged, it did not run on
    expect(events.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'registerModelVersion')).toBe(false);
  });

  it('cancelling during scoring stops every shard, removes the staging and publishes nothing', async () => {
    const sink = path.join(work, 'scores');
    const spec = smallFlightsSpec('cancel-score', (s) => {
      // Two shards of many one-day slices: seconds of scoring, each slice a point where a shard can stop.
      s.inference = { shard_rows: 1_500_000, slice_rows: 1, max_parallel_shards: 2, sink: { type: 'parquet', path: sink } };
      s.execution = { heartbeat_timeout: '5s' };
    });
    await h.client.workflow.execute(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `cancel-score-train-${process.pid}` });
    const handle = await h.client.workflow.start(batchInference, { args: [{ spec, from: '2001-01-25', to: '2001-06-30' }], taskQueue: h.config.taskQueue, workflowId: `cancel-score-${process.pid}` });
    const staging = path.join(TEST_ARTIFACTS, 'inference', (await handle.describe()).runId);
    await eventually(() => pending(handle), (types) => types.filter((t) => t === 'scoreShard').length === 2, 'both shards to be scoring', 60_000);
    await eventually(async () => fs.existsSync(staging) && fs.readdirSync(staging, { recursive: true }).some((f) => String(f).endsWith('_SLICE.json')), (staged) => staged, 'a staged slice');
    const asked = Date.now();
    await handle.cancel();
    await cancelled(handle);
    recordHistory(handle, 'cancelled-scoring');
    expect(Date.now() - asked).toBeLessThan(5_000 + 3_000);
    const described = await handle.describe();
    expect(described.status.name).toBe('CANCELLED');
    expect(described.raw.pendingActivities ?? []).toEqual([]);
    expect(described.typedSearchAttributes.get(SluiceStatus)).toBe('cancelled');
    expect(fs.existsSync(staging)).toBe(false);
    expect(fs.existsSync(sink)).toBe(false);
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.activityTaskCanceledEventAttributes)).toHaveLength(2);
    expect(events.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'publishScores')).toBe(false);
  });
});
