import type { ClassReport, MulticlassMetrics } from '../../contracts/metrics';

const EPSILON = 1e-7;

/**
 * Log loss, accuracy, macro-F1, per-class precision / recall / F1 / support and the confusion matrix of
 * `probabilities` (row-major, one column per class of `classes`, each row summing to 1) against `labels` (class
 * indices). A row's predicted class is its most probable (the first on a tie). `shares` are the training window's
 * class shares: the trivial model's probabilities, whose log loss is `baselineLogLoss`.
 */
export function multiclassMetrics(probabilities: ArrayLike<number>, labels: ArrayLike<number>, classes: readonly string[], shares: readonly number[]): MulticlassMetrics {
  const k = classes.length;
  const n = labels.length;
  if (k < 2) throw new Error(`multiclassMetrics: ${k} class(es); a multiclass model has at least 2`);
  if (probabilities.length !== n * k) throw new Error(`multiclassMetrics: ${probabilities.length} probabilities for ${n} rows of ${k} classes`);
  if (n === 0) throw new Error('multiclassMetrics: no rows');
  if (shares.length !== k) throw new Error(`multiclassMetrics: ${shares.length} class shares for ${k} classes`);
  const confusion = classes.map(() => new Array<number>(k).fill(0));
  let baselineLogLoss = 0;
  const support = new Float64Array(k);
  const predictedCount = new Float64Array(k);
  const truePositives = new Float64Array(k);
  let logLoss = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= k) throw new Error(`multiclassMetrics: row ${i} has label ${y}, not a class index below ${k}`);
    let predicted = 0;
    for (let c = 1; c < k; c++) if (probabilities[i * k + c] > probabilities[i * k + predicted]) predicted = c;
    logLoss -= Math.log(clip(probabilities[i * k + y]));
    baselineLogLoss -= Math.log(clip(shares[y]));
    confusion[y][predicted]++;
    support[y]++;
    predictedCount[predicted]++;
    if (predicted === y) {
      correct++;
      truePositives[y]++;
    }
  }
  const perClass: ClassReport[] = classes.map((name, c) => {
    const precision = predictedCount[c] > 0 ? truePositives[c] / predictedCount[c] : 0;
    const recall = support[c] > 0 ? truePositives[c] / support[c] : 0;
    return { class: name, precision, recall, f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0, support: support[c], predicted: predictedCount[c] };
  });
  const present = perClass.filter((_, c) => support[c] > 0 || predictedCount[c] > 0);
  const macroF1 = present.reduce((s, r) => s + r.f1, 0) / present.length;
  return { task: 'multiclass', rows: n, logLoss: logLoss / n, accuracy: correct / n, macroF1, perClass, confusion, baselineLogLoss: baselineLogLoss / n };
}

/** A probability clipped away from 0 and 1, as scikit-learn's log loss clips it. */
function clip(p: number): number {
  return Math.min(Math.max(p, EPSILON), 1 - EPSILON);
}
