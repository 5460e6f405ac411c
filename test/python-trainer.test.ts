import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { readMetadata } from '../activities/onnx/graph-builder';
import { run } from '../scripts/sluice-cli';
import { batchInference } from '../workflows/batch-inference';
import { trainPipeline } from '../workflows/train-pipeline';
import { rootMessage } from '../contracts/root-cause';
import { binaryMetrics } from '../contracts/metric-values';
import { cancelWhileTraining, trainThroughKill } from './support/python-training';
import { kill, startPythonWorker } from './support/processes';
import { smallFlightsSpec, type SpecInput } from './support/specs';
import { harness, TEST_ARTIFACTS, type TestHarness } from './support/temporal';

/**
 * `trainer: {type: python}` with real processes: pipelines/trainers/hist_gbdt.py (scikit-learn's
 * HistGradientBoostingClassifier) trained on the Python worker, compared with the logistic champion, scored by
 * batchInference like predict_proba scores, resumed from its own checkpoint after a SIGKILL of the worker, and a
 * function that raises refused with its traceback's frames.
 */
const ROOT = path.resolve(__dirname, '..');
const PYTHON = path.join(ROOT, '.tools', 'venv', 'bin', 'python');
const EXAMPLE = path.join(ROOT, 'pipelines', 'trainers', 'hist_gbdt.py');
let h: TestHarness;
const pythons: ChildProcess[] = [];
let queue: string;
let work: string;
let codeRoot: string;
const savedRoots = process.env.SLUICE_CODE_ROOTS;

async function pythonWorker(taskQueue: string): Promise<ChildProcess> {
  const child = await startPythonWorker({ TEMPORAL_ADDRESS: h.config.address, SLUICE_PYTHON_TASK_QUEUE: taskQueue, SLUICE_ARTIFACTS: TEST_ARTIFACTS });
  pythons.push(child);
  return child;
}

/** The three-week flights spec trained by `module`'s `train` with `params`, on `taskQueue`. */
function pythonSpec(name: string, params: Record<string, unknown>, taskQueue: string, change: (s: SpecInput) => void = () => undefined): string {
  return smallFlightsSpec(name, (s) => {
    s.trainer = { type: 'python', module: EXAMPLE, function: 'train', params };
    s.execution = { python_task_queue: taskQueue, heartbeat_timeout: '10s' };
    s.on_failure = { wait_for_operator: false };
    change(s);
  });
}

beforeAll(async () => {
  h = await harness('pytrainer');
  queue = `${h.config.taskQueue}-python`;
  work = path.join(TEST_ARTIFACTS, '..', `python-trainer-${process.pid}`);
  codeRoot = path.join(work, 'code');
  fs.mkdirSync(codeRoot, { recursive: true });
  // A code root of this test's own beside the project's pipelines/, for the module that raises.
  process.env.SLUICE_CODE_ROOTS = [path.join(ROOT, 'pipelines'), codeRoot].join(path.delimiter);
  await pythonWorker(queue);
});
afterAll(async () => {
  for (const child of pythons) await kill(child);
  await h?.close();
  if (savedRoots === undefined) delete process.env.SLUICE_CODE_ROOTS;
  else process.env.SLUICE_CODE_ROOTS = savedRoots;
});

describe('your own Python training function', () => {
  it('is trained on the Python worker, compared with the champion, and scored by batchInference like predict_proba', async () => {
    const sink = path.join(work, 'scores');
    const inference = { shard_rows: 100_000, slice_rows: 100_000, max_parallel_shards: 1, sink: { type: 'parquet' as const, path: sink } };
    const logistic = smallFlightsSpec('py-vs-logistic', (s) => void (s.inference = inference));
    const sklearn = pythonSpec('py-vs-logistic', { max_iter: 150, chunk: 25, patience: 2, max_leaf_nodes: 31, seed: 7 }, queue, (s) => void (s.inference = inference));
    const days = { from: '2001-01-22', to: '2001-01-24' }; // the validation window: its features are in the feature set, for predict_proba
    const { champion, challenger, scored, shown } = await h.withWorker(async () => {
      const champion = await h.client.workflow.execute(trainPipeline, { args: [{ spec: logistic }], taskQueue: h.config.taskQueue, workflowId: `py-logistic-${process.pid}` });
      const challenger = await h.client.workflow.execute(trainPipeline, { args: [{ spec: sklearn }], taskQueue: h.config.taskQueue, workflowId: `py-sklearn-${process.pid}` });
      const scored = await h.client.workflow.execute(batchInference, { args: [{ spec: sklearn, ...days, modelVersion: challenger.modelVersion }], taskQueue: h.config.taskQueue, workflowId: `py-infer-${process.pid}` });
      const shown: string[] = [];
      expect(await run(['models', 'show', 'py-vs-logistic', String(challenger.modelVersion)], h.client, (line) => shown.push(line), h.config)).toBe(0);
      return { champion, challenger, scored, shown: shown.join('\n') };
    });
    // The code is part of the model's lineage: its hash in the registry and in the model's metadata.
    const sha256 = createHash('sha256').update(fs.readFileSync(EXAMPLE)).digest('hex');
    expect(shown).toContain(`, code ${sha256.slice(0, 12)}`);
    const props = readMetadata(fs.readFileSync(path.join(TEST_ARTIFACTS, challenger.modelUri.replace(/^artifact:/, ''))));
    expect(JSON.parse(props['sluice.code'])).toEqual({ module: 'hist_gbdt.py', sha256 });
    const auc = binaryMetrics(challenger.metrics).auc;
    console.log(`flights-sklearn (three weeks): AUC ${auc.toFixed(4)} against the logistic champion's ${binaryMetrics(champion.metrics).auc.toFixed(4)}; ${challenger.steps.find((s) => s.name === 'train')?.detail}`);
    expect(champion.promoted).toBe(true);
    expect(challenger.steps.find((s) => s.name === 'train')?.detail).toMatch(/^\d+ iterations, returned HistGradientBoostingClassifier$/);
    expect(challenger.champion?.version).toBe(champion.modelVersion);
    expect(challenger.decision.reasons.some((r) => r.includes(`champion v${champion.modelVersion}`))).toBe(true);
    expect(auc).toBeGreaterThan(0.6);

    // ONNX Runtime in DuckDB against the estimator's own predict_proba (kept beside the ONNX model as model.pkl).
    const modelFolder = path.dirname(path.join(TEST_ARTIFACTS, challenger.modelUri.replace(/^artifact:/, '')));
    expect(fs.existsSync(path.join(modelFolder, 'model.pkl'))).toBe(true);
    const compared = spawnSync(PYTHON, [path.join(__dirname, 'support', 'sklearn_predictions.py'), TEST_ARTIFACTS, modelFolder, path.join(sink, '*', '*.parquet'), `${days.from}..${days.to}`, JSON.stringify(['date', 'origin', 'destination'])], { encoding: 'utf8' });
    expect(compared.stderr).toBe('');
    const { sinkRows, matched, maxDifference } = JSON.parse(compared.stdout) as { sinkRows: number; matched: number; maxDifference: number };
    console.log(`flights-sklearn: ${sinkRows} rows scored, ${matched} matched to predict_proba, largest difference ${maxDifference.toExponential(2)}`);
    expect(sinkRows).toBe(scored.rows);
    expect(matched).toBeGreaterThan(scored.rows * 0.9); // distinct rows: flights sharing every key share their features
    expect(maxDifference).toBeLessThanOrEqual(1e-5);
  });

  it('SIGKILL of the Python worker mid-training: the next attempt resumes from the checkpoint the function saved', async () => {
    const killQueue = `${h.config.taskQueue}-python-kill`;
    const first = await pythonWorker(killQueue);
    // Never stale: every chunk of 25 rounds is fitted, so the kill lands in a fit of six.
    const params = { max_iter: 150, chunk: 25, patience: 100, max_leaf_nodes: 63, seed: 3 };
    const start = (run: 'uninterrupted' | 'killed') =>
      h.client.workflow.start(trainPipeline, { args: [{ spec: pythonSpec(`py-kill-${run}`, run === 'killed' ? params : { ...params, run }, killQueue) }], taskQueue: h.config.taskQueue, workflowId: `py-kill-${run}-${process.pid}` });
    const { uninterrupted, resumed, beat } = await trainThroughKill(h, start, first, () => pythonWorker(killQueue));
    const detail = resumed.steps.find((s) => s.name === 'train')?.detail ?? '';
    console.log(`flights-sklearn killed after checkpoint ${beat?.checkpoint}: ${detail}`);
    expect(detail).toMatch(/^150 iterations, returned HistGradientBoostingClassifier, resumed after iteration (25|50|75|100|125)$/);
    expect(binaryMetrics(resumed.metrics).auc).toBe(binaryMetrics(uninterrupted.metrics).auc);
  }, 360_000);

  it('cancelling a run reaches the function: its next heartbeat stops it, and the run ends cancelled with nothing registered', async () => {
    const spec = pythonSpec('py-cancel', { max_iter: 2000, chunk: 25, patience: 1000, seed: 5 }, queue);
    const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `py-cancel-${process.pid}` });
    const { err, acknowledged } = await cancelWhileTraining(h, handle);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(acknowledged).toBeLessThan(10_000 + 5_000); // the heartbeat timeout and a chunk of rounds; NaN (no cancelled step) fails too
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.some((e) => e.activityTaskCanceledEventAttributes)).toBe(true);
    expect(events.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'registerModelVersion')).toBe(false);
  });

  it('a function that raises fails the run at once, with the frames of its traceback, and registers nothing', async () => {
    const module = path.join(codeRoot, 'raises.py');
    fs.writeFileSync(module, 'def prepare(rows):\n    return rows["no_such_column"]\n\n\ndef train(data, params, context):\n    return prepare({})\n');
    const spec = pythonSpec('py-raises', {}, queue, (s) => void (s.trainer = { type: 'python', module, function: 'train' }));
    const failed = await h.withWorker(() =>
      h.client.workflow.execute(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `py-raises-${process.pid}` }).then(
        () => 'trained',
        (err: unknown) => rootMessage(err),
      ),
    );
    expect(failed).toMatch(/trainer\.function: train raised KeyError: 'no_such_column' \(at raises\.py:2 in prepare < raises\.py:6 in train < python\.py:\d+ in fit\); nothing was registered$/);
  });
});
