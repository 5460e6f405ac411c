/**
 * What a pipeline predicts, and the metrics each kind of prediction is measured, gated and compared by. Shared by
 * the spec loader (which gates a task may have), the evaluate step and promotion; imports nothing of ours.
 */

/** A yes/no outcome (one probability per row), a number, or one of several classes (a probability per class). */
export type Task = 'binary' | 'regression' | 'multiclass';

export const TASKS: readonly Task[] = ['binary', 'regression', 'multiclass'];

/** Every metric some task reports, as specs name them. */
export const METRIC_NAMES = ['auc', 'log_loss', 'accuracy', 'precision', 'recall', 'rmse', 'mae', 'r2', 'mape', 'macro_f1'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** A metric as specs and reports name it (`gates: {rmse: {max: 18}}`), in words, and which way is better. */
export interface MetricInfo {
  name: MetricName;
  words: string;
  better: 'higher' | 'lower';
}

const metric = (name: MetricName, words: string, better: MetricInfo['better']): MetricInfo => ({ name, words, better });

/** Every metric a task reports on the validation window; each can be gated (`gates.<name>: {min, max}`). */
export const TASK_METRICS: Record<Task, readonly MetricInfo[]> = {
  binary: [
    metric('auc', 'AUC', 'higher'),
    metric('log_loss', 'log loss', 'lower'),
    metric('accuracy', 'accuracy', 'higher'),
    metric('precision', 'precision', 'higher'),
    metric('recall', 'recall', 'higher'),
  ],
  regression: [
    metric('rmse', 'RMSE', 'lower'),
    metric('mae', 'MAE', 'lower'),
    metric('r2', 'R²', 'higher'),
    metric('mape', 'MAPE', 'lower'),
  ],
  multiclass: [
    metric('log_loss', 'log loss', 'lower'),
    metric('accuracy', 'accuracy', 'higher'),
    metric('macro_f1', 'macro-F1', 'higher'),
  ],
};

/** The metric a task's champion comparison uses unless `promotion.metric` says otherwise. */
export const PRIMARY_METRIC: Record<Task, MetricName> = { binary: 'auc', regression: 'rmse', multiclass: 'log_loss' };

/** The metric `name` as whichever task reports it (its words and direction are the same in every task). */
export function metricNamed(name: string): MetricInfo | undefined {
  for (const task of TASKS) {
    const found = metricOf(task, name);
    if (found) return found;
  }
  return undefined;
}

/** The metric `name` of `task`, or undefined when the task does not report it. */
export function metricOf(task: Task, name: string): MetricInfo | undefined {
  return TASK_METRICS[task].find((m) => m.name === name);
}

/** Bounds on one metric: `min`, the least value allowed, and `max`, the largest (a `max` on AUC can catch a leak). */
export interface MetricGate {
  min?: number;
  max?: number;
}
