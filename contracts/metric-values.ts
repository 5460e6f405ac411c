/**
 * A model's metrics by the names specs give them, whatever its task: for gates, the champion comparison and the
 * one-line summaries of runs, registries and reports.
 */
import type { ClassificationMetrics, ModelMetrics } from './metrics';
import { metricOf, PRIMARY_METRIC, type MetricName, type Task } from './tasks';

/** The task a model's metrics are of (a binary classifier's carry none). */
export function taskOf(metrics: ModelMetrics): Task {
  return 'task' in metrics ? metrics.task : 'binary';
}

/** The metric `name` of `metrics`; undefined when its task does not report it (or, like MAPE with a 0 label, it is undefined). */
export function metricValue(metrics: ModelMetrics, name: MetricName): number | undefined {
  if (!('task' in metrics)) {
    return { auc: metrics.auc, log_loss: metrics.logLoss, accuracy: metrics.accuracy, precision: metrics.precision, recall: metrics.recall }[name as string];
  }
  if (metrics.task === 'regression') return { rmse: metrics.rmse, mae: metrics.mae, r2: metrics.r2, mape: metrics.mape ?? undefined }[name as string];
  return { log_loss: metrics.logLoss, accuracy: metrics.accuracy, macro_f1: metrics.macroF1 }[name as string];
}

/** `metrics`' primary metric in words with 4 decimals: "AUC 0.7617", "RMSE 21.3054". */
export function headline(metrics: ModelMetrics, name: MetricName = PRIMARY_METRIC[taskOf(metrics)]): string {
  return `${metricOf(taskOf(metrics), name)?.words ?? name} ${(metricValue(metrics, name) ?? NaN).toFixed(4)}`;
}

/** `metrics` as a binary classifier's; throws for another task's (or none). */
export function binaryMetrics(metrics: ModelMetrics | undefined): ClassificationMetrics {
  if (!metrics || 'task' in metrics) throw new Error(`expected a binary classifier's metrics, got ${metrics ? `a ${metrics.task} model's` : 'none'}`);
  return metrics;
}
