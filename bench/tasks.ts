/**
 * Benchmark: regression and multiclass through Sluice against the plain tools, in one run.
 *  1. LightGBM per task: the train step (the Python worker's activity, scheduled to completed: Temporal,
 *     heartbeats, checkpoints and the ONNX export included) against a plain LightGBM script on the same feature
 *     files with the same settings and early-stopping holdout. Regression: flights-delay.yaml (RMSE within 0.5 %);
 *     multiclass: how late a flight leaves in four classes, from flights.yaml's features (log loss within 0.002).
 *     Fit time ≤ 1.15× for both.
 *  2. Batch scoring of each task's linear model (linear_regression, softmax_regression) on all 3M rows
 *     (batchInference, to Parquet) against ONNX Runtime alone on in-memory tensors of the same model (target
 *     ≥ 80 %), and against ONNX Runtime alone plus DuckDB alone computing the features.
 *   npm run bench
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { stringify } from 'yaml';
import { ArtifactStore } from '../activities/storage/artifact-store';
import { loadSpecFile } from '../activities/spec/loader';
import { batchInference } from '../workflows/batch-inference';
import { trainPipeline } from '../workflows/train-pipeline';
import type { MulticlassMetrics, RegressionMetrics } from '../contracts/metrics';
import { inMemoryFeatures, ortAloneSeconds } from './in-memory-features';
import { freshArtifactRoot, withPythonBench, type PythonBench } from './python-bench';
import { categoricalIndices, DELAY_CLASS, featuresFor, PYTHON } from './reference';

const FROM = '2001-01-01';
const TO = '2001-07-01';
const PORT = 7248;
const SCRIPT = path.resolve('bench', 'peers', 'lightgbm_script.py');
/** No refit: the plain script fits the fit rows with early stopping on the holdout, and so does the train step. */
const BOOSTING = { type: 'lightgbm', trees: 300, leaves: 63, learning_rate: 0.1, refit: false };

interface Task {
  task: 'regression' | 'multiclass';
  base: Record<string, unknown>;
  /** The task's metric as the plain script names it, and as the run's metrics name it. */
  metric: 'rmse' | 'log_loss';
  linear: Record<string, unknown>;
}

const TASKS: Task[] = [
  { task: 'regression', base: { extends: 'flights-delay.yaml' }, metric: 'rmse', linear: { type: 'linear_regression' } },
  { task: 'multiclass', base: DELAY_CLASS, metric: 'log_loss', linear: { type: 'softmax_regression', l2: 1e-4 } },
];

function script(args: string[]): Record<string, number> {
  const run = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
  if (run.status !== 0) throw new Error(`lightgbm_script.py ${args[0]} failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() as string) as Record<string, number>;
}

const metricOf = (task: Task, metrics: unknown) => (task.metric === 'rmse' ? (metrics as RegressionMetrics).rmse : (metrics as MulticlassMetrics).logLoss);

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-tasks-'));
  process.env.SLUICE_DATA_ROOTS = [process.cwd(), work].join(path.delimiter);
  const cached = new ArtifactStore(path.resolve('.sluice', 'bench-artifacts'));
  const root = freshArtifactRoot(cached, work);
  const store = new ArtifactStore(root);
  const files: string[] = [];
  const specFile = (name: string, spec: Record<string, unknown>) => {
    const file = path.join('pipelines', `.bench-${name}-${process.pid}.yaml`);
    // The default gate only (beat the trivial model), so every model is the champion its scoring reads.
    fs.writeFileSync(file, stringify({ ...spec, gates: {}, inference: { shard_rows: 1_000_000, slice_rows: 250_000, max_parallel_shards: 2, sink: { type: 'parquet', path: path.join(work, `sink-${name}`) } } }));
    files.push(file);
    return file;
  };
  const lines: string[] = [];
  const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
  try {
    await withPythonBench(PORT, root, async (bench) => {
      for (const task of TASKS) {
        const boosting = specFile(`${task.task}-lightgbm`, { ...task.base, name: `bench-${task.task}-lightgbm`, trainer: BOOSTING, execution: { python_task_queue: 'bench-python' } });
        const loaded = loadSpecFile(boosting);
        const features = await featuresFor(cached, boosting);
        const names = features.featureColumns.map((c) => c.name);
        const trainer = loaded.spec.trainer as Record<string, unknown>;
        const classes = features.classes?.length ?? 0;
        const settings = { ...trainer, all_rows: false, categorical: categoricalIndices(features), objective: task.task === 'regression' ? 'regression' : 'multiclass', num_class: classes };
        const plain = script(['fit', cached.pathOf(features.train.uri), cached.pathOf(features.validate.uri), features.label, loaded.spec.extract.time_column, JSON.stringify(settings), ...names]);
        const ours = await bench.train(boosting, `bench-${task.task}-lightgbm`);
        const value = metricOf(task, ours.result.metrics);
        const fitRatio = ours.seconds / (plain.load_seconds + plain.fit_seconds);
        const close = task.metric === 'rmse' ? (value - plain.rmse) / plain.rmse <= 0.005 : value - plain.log_loss <= 0.002;
        const gap = task.metric === 'rmse' ? `RMSE ${value.toFixed(4)} against ${plain.rmse.toFixed(4)} (${((100 * (value - plain.rmse)) / plain.rmse).toFixed(2)} %, target ≤ +0.5 %)` : `log loss ${value.toFixed(4)} against ${plain.log_loss.toFixed(4)} (target ≤ +0.002)`;
        lines.push(`${task.task} LightGBM (${features.train.rows} rows × ${names.length} features${classes ? `, ${classes} classes` : ''}): ${gap}: ${met(close)}; fit ${ours.seconds.toFixed(1)} s against ${(plain.load_seconds + plain.fit_seconds).toFixed(1)} s, ${fitRatio.toFixed(2)}× (target ≤ 1.15×): ${met(fitRatio <= 1.15)}`);
        const linear = specFile(`${task.task}-linear`, { ...task.base, name: `bench-${task.task}-linear`, trainer: task.linear });
        const fitted = await bench.client.workflow.execute(trainPipeline, { taskQueue: 'bench', workflowId: `bench-${task.task}-linear`, args: [{ spec: linear }] });
        lines.push(`${task.task} ${String(task.linear.type)}: ${task.metric} ${metricOf(task, fitted.metrics).toFixed(4)}`);
        // The tree models' scoring against ONNX Runtime alone is bench/gbdt.ts's (a multiclass model's 1,200 trees take minutes).
        lines.push(await scoring(bench, cached, store.pathOf(fitted.modelUri), linear, met));
      }
    });
    console.log(`\nRegression and multiclass benchmark\n${lines.join('\n')}`);
  } finally {
    for (const file of files) fs.rmSync(file, { force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * batchInference of every row in FROM..TO (best of two) against ONNX Runtime alone on the same rows, and against the
 * limit: ONNX Runtime alone plus DuckDB alone computing the same features (what any job that computes its features
 * must spend at least).
 */
async function scoring(bench: PythonBench, cached: ArtifactStore, modelFile: string, spec: string, met: (ok: boolean) => string): Promise<string> {
  const loaded = loadSpecFile(spec);
  const seconds: number[] = [];
  let rows = 0;
  for (let r = 0; r < 2; r++) {
    const t = performance.now();
    const scored = await bench.client.workflow.execute(batchInference, { taskQueue: 'bench', workflowId: `bench-${loaded.spec.name}-infer-${r}`, args: [{ spec, from: FROM, to: TO }] });
    seconds.push((performance.now() - t) / 1000);
    rows = scored.rows;
  }
  const features = await featuresFor(cached, spec);
  const { x, rows: inMemory, duckdbSeconds } = await inMemoryFeatures(cached, loaded, features, { from: FROM, to: TO });
  if (inMemory !== rows) throw new Error(`batchInference scored ${rows} rows, the in-memory features have ${inMemory}`);
  const ortSeconds = ortAloneSeconds(modelFile, x, rows, features.featureColumns.length);
  const ours = Math.min(...seconds);
  const share = ortSeconds / ours;
  const limit = ortSeconds + duckdbSeconds;
  return `  scoring ${rows} rows with ${loaded.spec.trainer.type}: sluice ${ours.toFixed(2)} s, ONNX Runtime alone ${ortSeconds.toFixed(2)} s: ${(100 * share).toFixed(0)} % (target ≥ 80 %: ${met(share >= 0.8)}); DuckDB alone (features) ${duckdbSeconds.toFixed(2)} s, limit ${limit.toFixed(2)} s: ${((100 * limit) / ours).toFixed(0)} % of it`;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
