import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { queryRegistry } from '../activities/registry/registry';
import { batchInference } from '../workflows/batch-inference';
import { rollbackModel } from '../workflows/rollback';
import { trainPipeline } from '../workflows/train-pipeline';
import { run } from '../scripts/sluice-cli';
import { eventually } from './support/eventually';
import { cancelWhileTraining, resumedAfter, trainThroughKill } from './support/python-training';
import { kill, startPythonWorker } from './support/processes';
import { smallFlightsSpec } from './support/specs';
import { harness, TEST_ARTIFACTS, type TestHarness } from './support/temporal';
import { binaryMetrics } from '../contracts/metric-values';

/**
 * Gradient-boosted trees through the same pipeline: the train step runs on the Python worker (Temporal's
 * Python SDK, its own task queue), and evaluation, promotion, rollback and batch inference treat its ONNX
 * TreeEnsemble like any Sluice model. Durability is shown with real processes: a SIGKILLed Python worker's
 * training resumes from its checkpoint, and a cancelled run stops boosting.
 */
const ROOT = path.resolve(__dirname, '..');
const PYTHON = path.join(ROOT, '.tools', 'venv', 'bin', 'python');
let h: TestHarness;
const pythons: ChildProcess[] = [];
let queue: string;
let work: string;

async function pythonWorker(taskQueue: string): Promise<ChildProcess> {
  const child = await startPythonWorker({ TEMPORAL_ADDRESS: h.config.address, SLUICE_PYTHON_TASK_QUEUE: taskQueue, SLUICE_ARTIFACTS: TEST_ARTIFACTS });
  pythons.push(child);
  return child;
}


/** The three-week flights spec with a LightGBM trainer of `trees` rounds of 255 leaves on `taskQueue`: a second or more per 10 rounds. */
function slowGbdt(name: string, trees: number, patience: number, taskQueue: string): string {
  return smallFlightsSpec(name, (s) => {
    // No refit: the kill must land in the boosting that early stopping watches (the refit resumes the same way).
    s.trainer = { type: 'lightgbm', trees, leaves: 255, learning_rate: 0.05, early_stopping_rounds: patience, seed: 11, threads: 2, refit: false };
    s.execution = { python_task_queue: taskQueue, heartbeat_timeout: '5s' };
    s.on_failure = { wait_for_operator: false };
  });
}

beforeAll(async () => {
  h = await harness('gbdt');
  queue = `${h.config.taskQueue}-python`;
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-gbdt-'));
  await pythonWorker(queue);
});
afterAll(async () => {
  for (const child of pythons) await kill(child);
  await h?.close();
});

describe('LightGBM on the Python worker', () => {
  it('a GBDT challenger trained on the same features beats the logistic champion, is promoted, scored like LightGBM scores, and rolled back', async () => {
    const sink = path.join(work, 'scores');
    const inference = { shard_rows: 100_000, slice_rows: 100_000, max_parallel_shards: 1, sink: { type: 'parquet' as const, path: sink } };
    const logistic = smallFlightsSpec('gbdt-vs-logistic', (s) => void (s.inference = inference));
    const gbdt = smallFlightsSpec('gbdt-vs-logistic', (s) => {
      s.inference = inference;
      s.trainer = { type: 'lightgbm', trees: 150, leaves: 31, learning_rate: 0.1, early_stopping_rounds: 20, seed: 5, threads: 2 };
      s.execution = { python_task_queue: queue };
    });
    const day = '2001-01-23'; // a validation day: its features are in the feature set, to feed LightGBM itself
    const { first, second, scored } = await h.withWorker(async () => {
      const first = await h.client.workflow.execute(trainPipeline, { args: [{ spec: logistic }], taskQueue: h.config.taskQueue, workflowId: `gbdt-logistic-${process.pid}` });
      const second = await h.client.workflow.execute(trainPipeline, { args: [{ spec: gbdt }], taskQueue: h.config.taskQueue, workflowId: `gbdt-trees-${process.pid}` });
      const scored = await h.client.workflow.execute(batchInference, { args: [{ spec: gbdt, partition: day }], taskQueue: h.config.taskQueue, workflowId: `gbdt-infer-${process.pid}` });
      return { first, second, scored };
    });
    expect(first.promoted).toBe(true);
    expect(binaryMetrics(second.metrics).auc).toBeGreaterThan(binaryMetrics(first.metrics).auc);
    expect(second.promoted).toBe(true);
    expect(second.champion?.version).toBe(first.modelVersion);
    // Refit by default: the rounds early stopping chose, trained again on every training day.
    expect(second.steps.find((s) => s.name === 'train')?.detail).toMatch(/^\d+ rounds, (early-stopped|max-iterations), refit \d+ on the whole window in \d+\.\d s$/);
    // The train step ran on the Python worker's queue.
    const history = await h.client.workflow.getHandle(`gbdt-trees-${process.pid}`).fetchHistory();
    const trainScheduled = (history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes).find((a) => a?.activityType?.name === 'trainPython');
    expect(trainScheduled?.taskQueue?.name).toBe(queue);
    expect(scored.modelVersion).toBe(second.modelVersion);
    expect(scored.rows).toBeGreaterThan(10_000);
    expect(fs.readdirSync(sink)).toEqual([`day=${day}`]);
    // The tree model was compiled to native code on the worker, with nothing to warn about.
    expect(scored.scoring).toEqual({ engines: ['compiled-trees'] });

    // batchInference's scores (compiled trees in DuckDB) against LightGBM's own predict on the same rows.
    const modelFolder = path.dirname(path.join(TEST_ARTIFACTS, second.modelUri.replace(/^artifact:/, '')));
    const compared = spawnSync(PYTHON, [path.join(__dirname, 'support', 'lightgbm_predictions.py'), TEST_ARTIFACTS, modelFolder, path.join(sink, '*', '*.parquet'), day, JSON.stringify(['date', 'origin', 'destination'])], { encoding: 'utf8' });
    expect(compared.stderr).toBe('');
    const { sinkRows, matched, maxDifference } = JSON.parse(compared.stdout) as { sinkRows: number; matched: number; maxDifference: number };
    expect(sinkRows).toBe(scored.rows);
    expect(matched).toBeGreaterThan(scored.rows * 0.9); // distinct rows: flights sharing every key share their features
    expect(maxDifference).toBeLessThanOrEqual(1e-6);

    const rolledBack = await h.withWorker(async () => {
      await h.client.workflow.execute(rollbackModel, {
        args: [{ spec: gbdt, toVersion: first.modelVersion, actor: 'test', reason: 'back to the logistic model' }],
        taskQueue: h.config.taskQueue,
        workflowId: `gbdt-rollback-${process.pid}`,
      });
      return queryRegistry(h.client, 'gbdt-vs-logistic');
    });
    expect(rolledBack?.aliases.champion).toBe(first.modelVersion);
  });

  it('SIGKILL of the Python worker mid-training: the next attempt resumes after round R > 0 and scores like an uninterrupted run', async () => {
    const killQueue = `${h.config.taskQueue}-python-kill`;
    const first = await pythonWorker(killQueue);
    // Two fingerprints for one model: early stopping never triggers with this patience, so the two settings train the same trees.
    const start = (run: 'uninterrupted' | 'killed') =>
      h.client.workflow.start(trainPipeline, { args: [{ spec: slowGbdt('gbdt-kill', 80, run === 'uninterrupted' ? 1000 : 1001, killQueue) }], taskQueue: h.config.taskQueue, workflowId: `gbdt-${run}-${process.pid}` });
    const { uninterrupted, resumed, beat } = await trainThroughKill(h, start, first, () => pythonWorker(killQueue));
    const detail = resumed.steps.find((s) => s.name === 'train')?.detail ?? '';
    const round = resumedAfter(resumed);
    expect(round).toBeGreaterThanOrEqual(beat?.checkpoint ?? 10); // the checkpoint the killed attempt had heartbeaten, or a newer one
    expect(round).toBeLessThan(80);
    expect(detail).toMatch(/^80 rounds, max-iterations, resumed after round \d+$/);
    expect(uninterrupted.steps.find((s) => s.name === 'train')?.detail).toBe('80 rounds, max-iterations');
    // The same trees: the resumed attempt continues the checkpointed model and its early stopping's losses.
    expect(binaryMetrics(resumed.metrics).auc).toBe(binaryMetrics(uninterrupted.metrics).auc);
  }, 360_000); // two fits and a resume, each a Python worker's start, on two cores shared with another test file

  it('cancelling a run stops boosting: the Python activity acknowledges within the heartbeat timeout and the run ends cancelled', async () => {
    const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec: slowGbdt('gbdt-cancel', 2000, 1002, queue) }], taskQueue: h.config.taskQueue, workflowId: `gbdt-cancel-${process.pid}` });
    const { err, acknowledged } = await cancelWhileTraining(h, handle);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(acknowledged).toBeLessThan(5_000 + 3_000); // NaN (no cancel request or no cancelled step) fails too
    const described = await handle.describe();
    expect(described.status.name).toBe('CANCELLED');
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.some((e) => e.activityTaskCanceledEventAttributes)).toBe(true); // LightGBM stopped, it did not run on
    expect(events.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'registerModelVersion')).toBe(false);
    expect(pythons[0].exitCode).toBeNull(); // the worker itself keeps polling
  });

  it('a run whose Python worker is not running waits on its queue, and sluice status says to start one', async () => {
    const idle = `${h.config.taskQueue}-no-python`;
    const spec = smallFlightsSpec('gbdt-no-worker', (s) => {
      s.trainer = { type: 'lightgbm', trees: 20 };
      s.execution = { python_task_queue: idle };
    });
    const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `gbdt-no-worker-${process.pid}` });
    try {
      const status = await h.withWorker(async () => {
        await eventually(() => handle.describe(), (d) => (d.raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'trainPython'), 'the train step to wait');
        const lines: string[] = [];
        const code = await run(['status', handle.workflowId], h.client, (line) => lines.push(line), h.config);
        return { code, output: lines.join('\n') };
      });
      expect(status.code).toBe(0);
      expect(status.output).toContain(`train: waiting on task queue "${idle}", which no Python worker polls; start one: SLUICE_PYTHON_TASK_QUEUE=${idle} npm run worker:python`);
    } finally {
      await handle.terminate('test done');
    }
  });
});
