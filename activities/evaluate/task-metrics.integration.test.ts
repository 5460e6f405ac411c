import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { multiclassMetrics } from './multiclass-metrics';
import { regressionMetrics } from './regression-metrics';
import { seededUniform } from '../../contracts/seeded-random';

/**
 * The regression and multiclass metrics against scikit-learn's on the same predictions (the Python worker's
 * environment), to 1e-9.
 */
const PYTHON = path.resolve(__dirname, '..', '..', '.tools', 'venv', 'bin', 'python');

function sklearn(script: string, data: unknown): Record<string, number | number[] | number[][]> {
  const run = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(data), encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as Record<string, number | number[] | number[][]>;
}

describe('regression metrics', () => {
  const next = seededUniform(7);
  const labels = Array.from({ length: 5_000 }, () => 40 * next() - 10);
  const predictions = labels.map((y) => y + 6 * (next() - 0.5) + 1);

  it('match scikit-learn: RMSE, MAE, R², MAPE, and the RMSE of predicting the training mean', () => {
    const ours = regressionMetrics(predictions, labels, 3.5);
    const theirs = sklearn(
      `import json, sys, numpy as np
from sklearn import metrics as m
d = json.load(sys.stdin); y, p = np.array(d["y"]), np.array(d["p"])
print(json.dumps({"rmse": m.root_mean_squared_error(y, p), "mae": m.mean_absolute_error(y, p), "r2": m.r2_score(y, p),
  "mape": m.mean_absolute_percentage_error(y, p), "baseline": m.root_mean_squared_error(y, np.full(len(y), 3.5))}))`,
      { y: labels, p: predictions },
    );
    expect(Math.abs(ours.rmse - (theirs.rmse as number))).toBeLessThan(1e-9);
    expect(Math.abs(ours.mae - (theirs.mae as number))).toBeLessThan(1e-9);
    expect(Math.abs(ours.r2 - (theirs.r2 as number))).toBeLessThan(1e-9);
    expect(Math.abs((ours.mape ?? NaN) - (theirs.mape as number))).toBeLessThan(1e-9);
    expect(Math.abs(ours.baselineRmse - (theirs.baseline as number))).toBeLessThan(1e-9);
    expect(ours.rmse).toBeLessThan(ours.baselineRmse);
  });

  it('cuts the predictions at their deciles, and counts the rows of each bin (ties stay in one bin)', () => {
    const ours = regressionMetrics(predictions, labels, 3.5);
    expect(ours.deciles).toEqual([...ours.deciles].sort((a, b) => a - b));
    expect(ours.decileRows).toEqual(new Array(10).fill(500)); // distinct predictions: a tenth each
    const tied = regressionMetrics([1, 1, 1, 1, 1, 1, 2, 2, 3, 4], [1, 1, 1, 1, 1, 1, 2, 2, 3, 4], 2);
    expect(tied.deciles).toEqual([1, 1, 1, 1, 1, 1, 2, 2, 3]);
    expect(tied.decileRows).toEqual([6, 0, 0, 0, 0, 0, 2, 0, 1, 1]);
    expect(tied.decileMeans.filter((_, k) => tied.decileRows[k] > 0)).toEqual([1, 2, 3, 4].map((v) => ({ predicted: v, actual: v })));
  });

  it('has no MAPE when a label is 0, and R² of a constant label follows scikit-learn', () => {
    expect(regressionMetrics([1, 2], [0, 2], 1).mape).toBeNull();
    expect(regressionMetrics([5, 5], [5, 5], 5).r2).toBe(1);
    expect(regressionMetrics([4, 6], [5, 5], 5).r2).toBe(0);
  });
});

describe('multiclass metrics', () => {
  const classes = ['sun', 'rain', 'drizzle', 'fog', 'snow'];
  const next = seededUniform(11);
  const rows = 3_000;
  // `snow` is never a label nor predicted (its probability is tiny); `fog` is predicted but never a label.
  const labels = Array.from({ length: rows }, () => Math.floor(next() * 3));
  const probabilities: number[] = [];
  for (let i = 0; i < rows; i++) {
    const raw = classes.map((_, c) => (c === 4 ? 1e-4 : next() + (c === labels[i] ? 0.6 : 0)));
    const sum = raw.reduce((s, v) => s + v, 0);
    probabilities.push(...raw.map((v) => v / sum));
  }

  const shares = [0.4, 0.3, 0.2, 0.05, 0.05];

  it('match scikit-learn: log loss, accuracy, macro-F1 over the classes present, per-class precision, recall and support, the confusion matrix, the class shares\' log loss', () => {
    const ours = multiclassMetrics(probabilities, labels, classes, shares);
    const theirs = sklearn(
      `import json, sys, numpy as np
from sklearn import metrics as m
d = json.load(sys.stdin); y, p = np.array(d["y"]), np.array(d["p"]).reshape(-1, 5)
hat = p.argmax(axis=1)
pr, rc, f1, sup = m.precision_recall_fscore_support(y, hat, labels=range(5), zero_division=0)
print(json.dumps({"logLoss": m.log_loss(y, p, labels=range(5)), "accuracy": m.accuracy_score(y, hat), "macroF1": m.f1_score(y, hat, average="macro", zero_division=0),
  "precision": pr.tolist(), "recall": rc.tolist(), "f1": f1.tolist(), "support": sup.tolist(),
  "confusion": m.confusion_matrix(y, hat, labels=range(5)).tolist(), "baseline": m.log_loss(y, np.tile(d["shares"], (len(y), 1)), labels=range(5))}))`,
      { y: labels, p: probabilities, shares },
    );
    expect(Math.abs(ours.logLoss - (theirs.logLoss as number))).toBeLessThan(1e-9);
    expect(Math.abs(ours.accuracy - (theirs.accuracy as number))).toBeLessThan(1e-9);
    expect(Math.abs(ours.macroF1 - (theirs.macroF1 as number))).toBeLessThan(1e-9);
    for (const key of ['precision', 'recall', 'f1', 'support'] as const) {
      const expected = theirs[key] as number[];
      ours.perClass.forEach((r, c) => expect(Math.abs(r[key] - expected[c])).toBeLessThan(1e-9));
    }
    expect(ours.perClass.map((r) => r.class)).toEqual(classes);
    expect(ours.confusion).toEqual(theirs.confusion);
    expect(ours.perClass.map((r) => r.predicted)).toEqual(classes.map((_, c) => ours.confusion.reduce((sum, row) => sum + row[c], 0)));
    expect(Math.abs(ours.baselineLogLoss - (theirs.baseline as number))).toBeLessThan(1e-9);
    expect(ours.perClass[3].support).toBe(0);
    expect(ours.perClass[3].precision).toBe(0); // predicted, never right
  });

  it('refuses a label that is not a class index, and fewer than two classes', () => {
    expect(() => multiclassMetrics([0.5, 0.5], [2], ['a', 'b'], [0.5, 0.5])).toThrow('row 0 has label 2, not a class index below 2');
    expect(() => multiclassMetrics([1], [0], ['a'], [1])).toThrow('1 class(es); a multiclass model has at least 2');
  });
});
