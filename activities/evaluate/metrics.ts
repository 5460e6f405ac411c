import type { ClassificationMetrics } from '../../contracts/metrics';


const EPSILON = 1e-7;

/**
 * AUC-ROC (Mann–Whitney, ties counted half), mean log loss, and accuracy / precision / recall of
 * `score >= threshold`, plus equal-width calibration bins.
 */
export function classificationMetrics(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold = 0.5, bins = 10): ClassificationMetrics {
  const n = scores.length;
  if (n !== labels.length) throw new Error(`classificationMetrics: ${n} scores but ${labels.length} labels`);
  if (n === 0) throw new Error('classificationMetrics: no rows');
  let positives = 0;
  let logLoss = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let correct = 0;
  const binCount = new Float64Array(bins);
  const binScore = new Float64Array(bins);
  const binLabel = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const s = scores[i];
    const y = labels[i];
    positives += y;
    const p = Math.min(Math.max(s, EPSILON), 1 - EPSILON);
    logLoss -= y * Math.log(p) + (1 - y) * Math.log(1 - p);
    const predicted = s >= threshold ? 1 : 0;
    if (predicted === y) correct++;
    if (predicted === 1 && y === 1) tp++;
    else if (predicted === 1) fp++;
    else if (y === 1) fn++;
    const b = Math.min(bins - 1, Math.floor(s * bins));
    binCount[b]++;
    binScore[b] += s;
    binLabel[b] += y;
  }
  return {
    rows: n,
    positiveRate: positives / n,
    auc: rocAuc(scores, labels),
    logLoss: logLoss / n,
    accuracy: correct / n,
    precision: tp + fp > 0 ? tp / (tp + fp) : 0,
    recall: tp + fn > 0 ? tp / (tp + fn) : 0,
    threshold,
    calibration: Array.from({ length: bins }, (_, b) => ({
      lower: b / bins,
      upper: (b + 1) / bins,
      count: binCount[b],
      meanPredicted: binCount[b] > 0 ? binScore[b] / binCount[b] : 0,
      observedRate: binCount[b] > 0 ? binLabel[b] / binCount[b] : 0,
    })),
  };
}

/** Area under the ROC curve: the probability a random positive scores above a random negative (ties ½). */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    while (end + 1 < n && scores[order[end + 1]] === scores[order[start]]) end++;
    const averageRank = (start + end) / 2 + 1;
    for (let i = start; i <= end; i++) {
      if (labels[order[i]] === 1) {
        positives++;
        rankSum += averageRank;
      }
    }
    start = end + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * The ROC curve as (false positive rate, true positive rate) points from (0,0) to (1,1), one per distinct
 * score threshold, thinned to at most `points` (ties stay together, so the curve is exact at each point).
 */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>, points = 200): Array<[number, number]> {
  const n = scores.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => scores[b] - scores[a]);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i] === 1 ? 1 : 0;
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return [];
  const curve: Array<[number, number]> = [[0, 0]];
  const every = Math.max(1, Math.floor(n / points));
  let tp = 0;
  let fp = 0;
  let since = 0;
  for (let i = 0; i < n; i++) {
    if (labels[order[i]] === 1) tp++;
    else fp++;
    since++;
    const lastOfTie = i === n - 1 || scores[order[i + 1]] !== scores[order[i]];
    if (lastOfTie && (since >= every || i === n - 1)) {
      curve.push([fp / negatives, tp / positives]);
      since = 0;
    }
  }
  return curve;
}
