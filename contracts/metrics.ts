/** One calibration bin: predictions in [lower, upper) and how often the label was actually 1. */
export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  meanPredicted: number;
  observedRate: number;
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
}
