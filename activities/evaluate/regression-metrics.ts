import type { RegressionMetrics } from '../../contracts/metrics';

/**
 * RMSE, MAE, R² and MAPE of `predictions` against `labels` (sums in double precision), and the RMSE of always
 * predicting `baselineMean` (the training window's mean label): the trivial model a regression must beat.
 */
export function regressionMetrics(predictions: ArrayLike<number>, labels: ArrayLike<number>, baselineMean: number): RegressionMetrics {
  const n = predictions.length;
  if (n !== labels.length) throw new Error(`regressionMetrics: ${n} predictions but ${labels.length} labels`);
  if (n === 0) throw new Error('regressionMetrics: no rows');
  let sum = 0;
  for (let i = 0; i < n; i++) sum += labels[i];
  const mean = sum / n;
  let squared = 0;
  let absolute = 0;
  let total = 0;
  let baseline = 0;
  let relative = 0;
  let zeroLabel = false;
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    const error = predictions[i] - y;
    squared += error * error;
    absolute += Math.abs(error);
    total += (y - mean) * (y - mean);
    baseline += (y - baselineMean) * (y - baselineMean);
    if (y === 0) zeroLabel = true;
    else relative += Math.abs(error) / Math.abs(y);
  }
  return {
    task: 'regression',
    rows: n,
    rmse: Math.sqrt(squared / n),
    mae: absolute / n,
    // A constant label has no variance to explain: R² is 1 for exact predictions, else 0 (scikit-learn's convention).
    r2: total > 0 ? 1 - squared / total : squared === 0 ? 1 : 0,
    mape: zeroLabel ? null : relative / n,
    labelMean: mean,
    baselineRmse: Math.sqrt(baseline / n),
    baselineMean,
    ...decileBins(predictions, labels),
  };
}

/** The predictions' deciles, and per bin (bin k: above k of the deciles) its rows, mean prediction and mean label. */
function decileBins(predictions: ArrayLike<number>, labels: ArrayLike<number>): Pick<RegressionMetrics, 'deciles' | 'decileRows' | 'decileMeans'> {
  const edges = deciles(predictions);
  const rows = new Array<number>(edges.length + 1).fill(0);
  const predicted = new Array<number>(edges.length + 1).fill(0);
  const actual = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < predictions.length; i++) {
    let bin = 0;
    for (const edge of edges) if (predictions[i] > edge) bin++;
    rows[bin]++;
    predicted[bin] += predictions[i];
    actual[bin] += labels[i];
  }
  const mean = (sum: number, n: number) => (n > 0 ? sum / n : 0);
  return { deciles: edges, decileRows: rows, decileMeans: rows.map((n, k) => ({ predicted: mean(predicted[k], n), actual: mean(actual[k], n) })) };
}

/** The 10 %, 20 %, … 90 % quantiles of `values` (the value at rank ⌈q·n⌉, as the inverted empirical distribution). */
export function deciles(values: ArrayLike<number>): number[] {
  const sorted = Float64Array.from(values).sort();
  return Array.from({ length: 9 }, (_, k) => sorted[Math.max(0, Math.ceil(((k + 1) / 10) * sorted.length) - 1)]);
}
