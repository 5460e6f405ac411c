import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { queryRegistry } from '../activities/registry';
import { batchInference } from '../workflows/batch-inference';
import { rollbackModel } from '../workflows/rollback';
import { trainPipeline } from '../workflows/train-pipeline';
import { run } from '../scripts/sluice-cli';
import { eventually } from './support/eventually';
import { kill } from './support/processes';
import { smallFlightsSpec } from './support/specs';
import { harness, TEST_ARTIFACTS, type TestHarness } from './support/temporal';

/**
 * Gradient-boosted trees through the same pipeline: the train step runs on the Python worker (Temporal's
 * Python SDK, its own task queue), and evaluation, promotion, rollback and batch inference treat its ONNX
 * TreeEnsemble like any Sluice model.
 */
const ROOT = path.resolve(__dirname, '..');
let h: TestHarness;
let python: ChildProcess | undefined;
let queue: string;
let sink: string;

/** Starts `python -m sluice_python.worker` on `queue`; resolves once it polls. */
async function startPythonWorker(taskQueue: string): Promise<ChildProcess> {
  const child = spawn(path.join(ROOT, '.tools', 'venv', 'bin', 'python'), ['-m', 'sluice_python.worker'], {
    cwd: path.join(ROOT, 'workers', 'python'),
    env: { ...process.env, TEMPORAL_ADDRESS: h.config.address, SLUICE_PYTHON_TASK_QUEUE: taskQueue, SLUICE_ARTIFACTS: TEST_ARTIFACTS },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the Python worker did not start within 60 s:\n${output}`)), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('sluice python worker polling')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`the Python worker exited with ${code}:\n${output}`)));
  });
  child.removeAllListeners('exit');
  return child;
}

beforeAll(async () => {
  h = await harness('gbdt');
  queue = `${h.config.taskQueue}-python`;
  sink = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-gbdt-'));
  python = await startPythonWorker(queue);
});
afterAll(async () => {
  if (python) await kill(python);
  await h?.close();
});

describe('LightGBM on the Python worker', () => {
  it('a GBDT challenger trained on the same features beats the logistic champion, is promoted, scored, and rolled back', async () => {
    const inference = { shard_rows: 100_000, slice_rows: 100_000, max_parallel_shards: 1, sink: { type: 'parquet' as const, path: sink } };
    const logistic = smallFlightsSpec('gbdt-vs-logistic', (s) => void (s.inference = inference));
    const gbdt = smallFlightsSpec('gbdt-vs-logistic', (s) => {
      s.inference = inference;
      s.trainer = { type: 'lightgbm', trees: 150, leaves: 31, learning_rate: 0.1, early_stopping_rounds: 20, seed: 5, threads: 2 };
      s.execution = { python_task_queue: queue };
    });
    const { first, second, scored } = await h.withWorker(async () => {
      const first = await h.client.workflow.execute(trainPipeline, { args: [{ spec: logistic }], taskQueue: h.config.taskQueue, workflowId: `gbdt-logistic-${process.pid}` });
      const second = await h.client.workflow.execute(trainPipeline, { args: [{ spec: gbdt }], taskQueue: h.config.taskQueue, workflowId: `gbdt-trees-${process.pid}` });
      const scored = await h.client.workflow.execute(batchInference, { args: [{ spec: gbdt, partition: '2001-01-25' }], taskQueue: h.config.taskQueue, workflowId: `gbdt-infer-${process.pid}` });
      return { first, second, scored };
    });
    expect(first.promoted).toBe(true);
    expect(second.metrics.auc).toBeGreaterThan(first.metrics.auc);
    expect(second.promoted).toBe(true);
    expect(second.champion?.version).toBe(first.modelVersion);
    expect(second.steps.find((s) => s.name === 'train')?.detail).toMatch(/^\d+ iterations, (early-stopped|max-iterations)$/);
    // The train step ran on the Python worker's queue.
    const history = await h.client.workflow.getHandle(`gbdt-trees-${process.pid}`).fetchHistory();
    const trainScheduled = (history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes).find((a) => a?.activityType?.name === 'trainLightgbm');
    expect(trainScheduled?.taskQueue?.name).toBe(queue);
    expect(scored.modelVersion).toBe(second.modelVersion);
    expect(scored.rows).toBeGreaterThan(10_000);
    expect(fs.readdirSync(sink)).toEqual(['day=2001-01-25']);

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

  it('a run whose Python worker is not running waits on its queue, and sluice status says to start one', async () => {
    const idle = `${h.config.taskQueue}-no-python`;
    const spec = smallFlightsSpec('gbdt-no-worker', (s) => {
      s.trainer = { type: 'lightgbm', trees: 20 };
      s.execution = { python_task_queue: idle };
    });
    const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `gbdt-no-worker-${process.pid}` });
    try {
      const status = await h.withWorker(async () => {
        await eventually(() => handle.describe(), (d) => (d.raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'trainLightgbm'), 'the train step to wait');
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
