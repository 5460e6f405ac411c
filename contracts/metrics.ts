/** One calibration bin: predictions in [lower, upper) and how often the label was actually 1. */
export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  meanPredicted: number;
  observedRate: number;
}

/** One feature's importance: how much worse the model does without it, and the trainer's own measure. */
export interface FeatureImportance {
  feature: string;
  /** Mean worsening of the primary metric when the feature's values are shuffled among the sampled rows (its units; positive: the model needs it). */
  drop: number;
  /** The standard deviation of that worsening over the repeats. */
  spread: number;
  /** The trainer's own measure, as a share of its total (`Importance.measure`); absent when the trainer has none. */
  own?: number;
}

/** Permutation importance of a model's features on validation rows, most important first. */
export interface Importance {
  /** The metric whose worsening is measured (the task's primary: AUC, RMSE or log loss). */
  metric: string;
  rows: number;
  repeats: number;
  seed: number;
  /** What `own` is: `gain` (trees: the loss reduction of the feature's splits), `coefficient` (linear: |standardized coefficient|). */
  measure?: string;
  /** Most important first; empty when it was `skipped`. */
  features: FeatureImportance[];
  /** Why the shuffles were not scored (the run's CPU budget could not pay for them). */
  skipped?: string;
}

/** Binary-classification quality of scores against 0/1 labels. */
export interface ClassificationMetrics {
  rows: number;
  positiveRate: number;
  auc: number;
  logLoss: number;
  accuracy: number;
  precision: number;
  recall: number;
  threshold: number;
  calibration: CalibrationBin[];
  importance?: Importance;
}

/** Regression quality of predictions against numeric labels, beside the trivial model's. */
export interface RegressionMetrics {
  task: 'regression';
  rows: number;
  rmse: number;
  mae: number;
  /** 1 − residual sum of squares / total sum of squares around the validation mean. */
  r2: number;
  /** Mean of |error| / |label|; undefined (null) when a label is 0. */
  mape: number | null;
  /** The mean of the labels. */
  labelMean: number;
  /** RMSE of always predicting the training window's mean label (`baselineMean`). */
  baselineRmse: number;
  baselineMean: number;
  /** The 10 %, 20 %, … 90 % quantiles of the validation predictions: the bins batch inference's drift (PSI) is measured in. */
  deciles: number[];
  /** Validation rows per bin: bin k holds the predictions above k of the deciles (a tenth each, unless predictions tie). */
  decileRows: number[];
  /** Per decile bin, the mean prediction and the mean label of its validation rows (0 for an empty bin): predicted against actual. */
  decileMeans: Array<{ predicted: number; actual: number }>;
  /** The validation residuals per day (when the feature set has the time column): where the model drifts off. */
  byDay?: DayResiduals[];
  importance?: Importance;
}

/** One validation day of a regression: rows, mean residual (prediction − label) and RMSE. */
export interface DayResiduals {
  day: string;
  rows: number;
  meanResidual: number;
  rmse: number;
}

/** One class's precision, recall and F1 (predicted = the most probable class), its validation rows, and the rows predicted as it. */
export interface ClassReport {
  class: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
  predicted: number;
}

/** Multiclass quality of per-class probabilities against class labels. */
export interface MulticlassMetrics {
  task: 'multiclass';
  rows: number;
  logLoss: number;
  accuracy: number;
  /** Mean F1 over the classes present in the labels or the predictions (scikit-learn's `average='macro'`). */
  macroF1: number;
  perClass: ClassReport[];
  /** Rows by actual class (row) and predicted class (column), in the model's class order. */
  confusion: number[][];
  /** Log loss of always predicting the training window's class shares: what beating the trivial model means. */
  baselineLogLoss: number;
  importance?: Importance;
}

/** A model's validation metrics: a binary classifier's (which has no `task` field: recorded before tasks), a regression's or a multiclass classifier's. */
export type ModelMetrics = ClassificationMetrics | RegressionMetrics | MulticlassMetrics;
