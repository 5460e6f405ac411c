import fs from 'node:fs';
import type { ArtifactStore } from '../storage/artifact-store';
import { metered } from '../cost/meter';
import { dataError, modelError } from '../../contracts/errors';
import { readFeatureMatrix } from '../features/feature-matrix';
import { ModelRunner } from '../inference/model-runner';
import { classificationMetrics, rocCurve } from './metrics';
import { regressionMetrics } from './regression-metrics';
import { multiclassMetrics } from './multiclass-metrics';
import { residualsByDay } from './residuals';
import { IMPORTANCE_DEFAULTS, permutationImportance, type ImportanceOptions } from './importance';
import { readMetadata } from '../onnx/graph-builder';
import type { ClassificationMetrics, Importance, ModelMetrics } from '../../contracts/metrics';
import type { Task } from '../../contracts/tasks';
import type { ArtifactRef } from '../../contracts/artifacts';

export interface EvaluateInput {
  modelUri: string;
  /** Feature rows with the label (e.g. the validation split). */
  dataset: ArtifactRef;
  label: string;
  threshold: number;
  calibrationBins: number;
  /** What the model predicts (absent in runs recorded before tasks: binary). */
  task?: Task;
  /** The training window's mean label: what a regression's baseline predicts. */
  trainingMean?: number;
  /** A multiclass model's training class shares, in its class order: what the trivial model predicts. */
  classShares?: number[];
  /** The time column: a regression's residuals are reported per day of it, when the dataset has it. */
  timeColumn?: string;
  /** Permutation importance's sample (the spec's `evaluation.importance`; `rows: 0` skips it, as for the champion). */
  importance?: Partial<ImportanceOptions>;
  /** The CPU seconds permutation importance may take (a third of what the run's budget leaves); unset: no limit. */
  importanceCpuSeconds?: number;
}

/** Rows per ONNX Runtime call when scoring, to bound the memory of one call. */
const SCORE_BATCH = 262_144;

/** Scores a labelled dataset with an exported model file and measures the scores (a regression's predictions) against the labels. */
export async function evaluateModel(store: ArtifactStore, input: EvaluateInput) {
  return metered(async (meter) => {
    const importance = { ...IMPORTANCE_DEFAULTS, ...input.importance, maxCpuSeconds: input.importanceCpuSeconds };
    const withImportance = <M extends ModelMetrics>(metrics: M, found: Importance | undefined): ModelMetrics => (found ? { ...metrics, importance: found } : metrics);
    const { names, scores, labels, classes, importance: found } = await scoreDataset(store, input.modelUri, input.dataset, input.label, input.task ?? 'binary', importance);
    meter.rowsIn = labels.length;
    meter.bytesIn = input.dataset.bytes;
    if (input.task === 'multiclass') {
      const metrics = multiclassMetrics(scores, labels, classes, input.classShares ?? []);
      refuseUndefined(metrics);
      return { metrics: withImportance(metrics, found), featureNames: names, roc: [] as Array<[number, number]> };
    }
    if (input.task === 'regression') {
      const metrics = regressionMetrics(scores, labels, input.trainingMean ?? NaN);
      refuseUndefined(metrics);
      const time = input.timeColumn;
      const byDay = time && input.dataset.columns.some((c) => c.name === time) ? await residualsByDay(await store.fetch(input.dataset.uri), time, scores, labels) : undefined;
      return { metrics: withImportance(byDay ? { ...metrics, byDay } : metrics, found), featureNames: names, roc: [] as Array<[number, number]> };
    }
    const metrics: ClassificationMetrics = classificationMetrics(scores, labels, input.threshold, input.calibrationBins);
    if (metrics.positiveRate === 0 || metrics.positiveRate === 1) {
      throw dataError(
        `split.validate: the validation window has one class (every one of its ${metrics.rows} labels is ${metrics.positiveRate}), so AUC and the gates are undefined; widen split.validate to a window with both outcomes`,
      );
    }
    refuseUndefined(metrics);
    // The ROC curve too (about 200 points), for the run report: the scores are at hand only here.
    return { metrics: withImportance(metrics, found), featureNames: names, roc: rocCurve(scores, labels) };
  });
}

/** Refuses metrics with a number that came out NaN or infinite (a regression's MAPE is null, not a number, when a label is 0). */
function refuseUndefined(metrics: ModelMetrics): void {
  const undefinedMetric = Object.entries(metrics).find(([, v]) => typeof v === 'number' && !Number.isFinite(v));
  if (undefinedMetric) throw dataError(`evaluate: the metric ${undefinedMetric[0]} came out undefined (${undefinedMetric[1]}) on ${metrics.rows} validation rows`);
}

/**
 * The model's output for every row of `dataset` (a probability, or a regression's number; with `task` multiclass,
 * each row's probability per class of `classes`, row-major), with the dataset's labels; with `importance` (rows
 * above 0), the features' permutation importance on a sample of them, beside the trainer's own measure.
 */
export async function scoreDataset(store: ArtifactStore, modelUri: string, dataset: ArtifactRef, label: string, task: Task = 'binary', importance?: ImportanceOptions & { maxCpuSeconds?: number }) {
  let file: string;
  let bytes: Uint8Array;
  let names: string[];
  let classes: string[] = [];
  let own: { measure: string; values: number[] } | undefined;
  try {
    file = await store.fetch(modelUri);
    bytes = fs.readFileSync(file);
    const metadata = readMetadata(bytes);
    names = JSON.parse(metadata['sluice.feature_names'] ?? 'null') as string[];
    if (task === 'multiclass') classes = JSON.parse(metadata['sluice.classes'] ?? '[]') as string[];
    if (metadata['sluice.importance']) own = JSON.parse(metadata['sluice.importance']) as { measure: string; values: number[] };
  } catch (err) {
    throw modelError(`${modelUri}: not a readable Sluice ONNX model (${(err as Error).message})`);
  }
  if (!Array.isArray(names)) throw modelError(`${modelUri}: metadata_props has no sluice.feature_names`);
  if (task === 'multiclass' && classes.length < 2) throw modelError(`${modelUri}: a multiclass model names its classes in metadata_props (sluice.classes); this one does not`);
  const available = new Set(dataset.columns.map((c) => c.name));
  const missing = names.filter((n) => !available.has(n));
  if (missing.length > 0) throw modelError(`${modelUri}: the model needs feature column(s) ${missing.join(', ')} that ${dataset.uri} does not have`);
  const matrix = await readFeatureMatrix(await store.fetch(dataset.uri), { features: names, label });
  const runner = ModelRunner.open(file, modelUri, matrix.width);
  const perRow = Math.max(1, classes.length);
  try {
    const scores = new Float32Array(matrix.rows * perRow);
    for (let start = 0; start < matrix.rows; start += SCORE_BATCH) {
      const end = Math.min(matrix.rows, start + SCORE_BATCH);
      const x = matrix.x.subarray(start * matrix.width);
      const out = task === 'multiclass' ? runner.outputs(x, end - start) : runner.score(x, end - start);
      if (out.length !== (end - start) * perRow) throw modelError(`${modelUri}: the model gives ${out.length} values for ${end - start} rows of ${perRow} classes`);
      scores.set(out, start * perRow);
      await new Promise((resolve) => setImmediate(resolve)); // a turn for the activity's heartbeats
    }
    const labels = matrix.y ?? new Float32Array(0);
    const data = { x: matrix.x, labels, width: matrix.width, names, task, classes };
    const found = importance && importance.rows > 0 && labels.length > 0 ? await permutationImportance(runner, data, importance, own?.values.length === names.length ? own : undefined, importance.maxCpuSeconds) : undefined;
    return { names, scores, labels, classes, importance: found };
  } finally {
    runner.close();
  }
}
