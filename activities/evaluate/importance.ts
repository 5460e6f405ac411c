import type { ModelRunner } from '../inference/model-runner';
import { classificationMetrics } from './metrics';
import { regressionMetrics } from './regression-metrics';
import { multiclassMetrics } from './multiclass-metrics';
import type { FeatureImportance, Importance } from '../../contracts/metrics';
import { metricOf, PRIMARY_METRIC, type Task } from '../../contracts/tasks';
import { seededUniform } from '../../contracts/seeded-random';

/** How permutation importance samples and shuffles (the spec's `evaluation.importance`, defaults filled in). */
export interface ImportanceOptions {
  rows: number;
  repeats: number;
  seed: number;
}

/**
 * 5000 rows: the drops are paired (the same rows scored shuffled and not), so their spread over repeats stays well
 * under the drops of the features that matter, at half the cost of 10000 (a 60-tree LightGBM model of 16 features:
 * 49 scorings of 5000 rows, about 2 CPU seconds on two cores).
 */
export const IMPORTANCE_DEFAULTS: ImportanceOptions = { rows: 5_000, repeats: 3, seed: 7 };

/** Rows per ONNX Runtime call. */
const BATCH = 65_536;

/** The rows to measure on: `x` (row-major, `width` columns) and their labels; a multiclass model's `classes`. */
export interface ImportanceData {
  x: Float32Array;
  labels: Float32Array;
  width: number;
  names: string[];
  task: Task;
  classes: string[];
}

/**
 * Permutation importance (Breiman's, as scikit-learn's `permutation_importance` computes it): on a seeded sample
 * of at most `options.rows` rows, each feature's column is shuffled `options.repeats` times and the rows scored
 * again through ONNX Runtime; a feature's `drop` is the mean worsening of the task's primary metric (AUC, RMSE or
 * log loss, in its units). Model-agnostic: it needs only the scores. `own` is the trainer's measure from the
 * model's metadata, as shares. Features most important first; undefined when the sample's metric is undefined
 * (a sample of one class). ONNX Runtime scores on this thread: the event loop gets a turn after every scoring, so
 * the activity's heartbeats go out meanwhile (a short heartbeat timeout would otherwise end the attempt).
 * With `maxCpuSeconds` (what the run's budget leaves it), the shuffles are not scored when the unshuffled scoring's
 * CPU time, times the scorings they take, would pass it: the importance says it was skipped, and why.
 */
export async function permutationImportance(runner: ModelRunner, data: ImportanceData, options: ImportanceOptions, own?: { measure: string; values: number[] }, maxCpuSeconds?: number): Promise<Importance | undefined> {
  const { width, task, classes } = data;
  const n = data.labels.length;
  const random = seededUniform(options.seed);
  const picked = sample(n, Math.min(n, options.rows), random);
  const rows = picked.length;
  const x = new Float32Array(rows * width);
  const labels = new Float32Array(rows);
  picked.forEach((row, i) => {
    x.set(data.x.subarray(row * width, (row + 1) * width), i * width);
    labels[i] = data.labels[row];
  });
  const metric = PRIMARY_METRIC[task];
  const higher = metricOf(task, metric)?.better === 'higher';
  const measure = metricFunction(task, labels, classes);
  const score = async (): Promise<Float32Array> => {
    const perRow = task === 'multiclass' ? classes.length : 1;
    const out = new Float32Array(rows * perRow);
    for (let start = 0; start < rows; start += BATCH) {
      const end = Math.min(rows, start + BATCH);
      const slice = x.subarray(start * width);
      out.set(task === 'multiclass' ? runner.outputs(slice, end - start) : runner.score(slice, end - start), start * perRow);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return out;
  };
  const before = process.cpuUsage();
  const base = measure(await score());
  if (!Number.isFinite(base)) return undefined;
  const shares = own ? sharesOf(own.values) : undefined;
  const header = { metric, rows, repeats: options.repeats, seed: options.seed, ...(own ? { measure: own.measure } : {}) };
  if (maxCpuSeconds !== undefined) {
    const used = process.cpuUsage(before);
    const estimate = ((used.user + used.system) / 1e6) * data.names.length * options.repeats;
    if (estimate > maxCpuSeconds) {
      const skipped = `skipped: its ${data.names.length * options.repeats} scorings would take about ${estimate.toFixed(1)} CPU seconds, over the ${Math.max(0, maxCpuSeconds).toFixed(1)} the budget leaves it`;
      return { ...header, features: [], skipped };
    }
  }
  const column = new Float32Array(rows);
  const features: FeatureImportance[] = [];
  for (const [j, feature] of data.names.entries()) {
    for (let i = 0; i < rows; i++) column[i] = x[i * width + j];
    const drops: number[] = [];
    for (let r = 0; r < options.repeats; r++) {
      const order = sample(rows, rows, random);
      for (let i = 0; i < rows; i++) x[i * width + j] = column[order[i]];
      const value = measure(await score());
      drops.push(higher ? base - value : value - base);
    }
    for (let i = 0; i < rows; i++) x[i * width + j] = column[i];
    const mean = drops.reduce((s, d) => s + d, 0) / drops.length;
    const spread = Math.sqrt(drops.reduce((s, d) => s + (d - mean) ** 2, 0) / drops.length);
    features.push({ feature, drop: mean, spread, ...(shares ? { own: shares[j] } : {}) });
  }
  features.sort((a, b) => b.drop - a.drop || a.feature.localeCompare(b.feature));
  return { ...header, features };
}

/** The task's primary metric of scores against `labels`. */
function metricFunction(task: Task, labels: Float32Array, classes: string[]): (scores: Float32Array) => number {
  if (task === 'regression') return (scores) => regressionMetrics(scores, labels, 0).rmse;
  if (task === 'multiclass') {
    const uniform = classes.map(() => 1 / classes.length);
    return (scores) => multiclassMetrics(scores, labels, classes, uniform).logLoss;
  }
  return (scores) => classificationMetrics(scores, labels, 0.5, 2).auc;
}

/** `values` as shares of their total (of their absolute values); all 0 when they sum to 0. */
function sharesOf(values: number[]): number[] {
  const total = values.reduce((s, v) => s + Math.abs(v), 0);
  return values.map((v) => (total > 0 ? Math.abs(v) / total : 0));
}

/** `k` distinct indices below `n`, in random order (a partial Fisher–Yates shuffle). */
function sample(n: number, k: number, random: () => number): Int32Array {
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (n - i));
    const t = all[i];
    all[i] = all[j];
    all[j] = t;
  }
  return all.subarray(0, k);
}
