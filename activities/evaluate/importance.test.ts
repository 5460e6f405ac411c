import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ModelRunner } from '../inference/model-runner';
import { scoringModel } from '../train/logistic/logistic-graphs';
import { permutationImportance } from './importance';
import { seededUniform } from '../../contracts/seeded-random';

/**
 * Permutation importance of a logistic model whose weights are known: `strong` (weight 2) matters most, `weak`
 * (weight −0.5) less, and `unused` (weight 0) not at all, so shuffling it leaves every score, and the AUC, unchanged.
 */
const NAMES = ['unused', 'weak', 'strong'];
const ROWS = 6_000;

describe('permutation importance', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-importance-')), 'model.onnx');
  fs.writeFileSync(file, scoringModel({ featureNames: NAMES, mean: [0, 0, 0], std: [1, 1, 1], weights: [0, -0.5, 2], intercept: 0, metadata: {} }));
  const next = seededUniform(3);
  const x = new Float32Array(ROWS * 3).map(() => 2 * next() - 1);
  // Labels drawn from the model's own probabilities: it is the true model.
  const labels = new Float32Array(ROWS).map((_, i) => (next() < 1 / (1 + Math.exp(-(2 * x[i * 3 + 2] - 0.5 * x[i * 3 + 1]))) ? 1 : 0));
  const data = { x, labels, width: 3, names: NAMES, task: 'binary' as const, classes: [] };

  it('ranks the features by how much AUC drops without them, and a feature the model ignores drops nothing', async () => {
    const runner = ModelRunner.open(file, 'model.onnx', 3);
    try {
      const found = await permutationImportance(runner, data, { rows: 4_000, repeats: 3, seed: 7 }, { measure: 'coefficient', values: [0, -0.5, 2] });
      expect(found).toMatchObject({ metric: 'auc', rows: 4_000, repeats: 3, seed: 7, measure: 'coefficient' });
      expect(found?.features.map((f) => f.feature)).toEqual(['strong', 'weak', 'unused']);
      const [strong, weak, unused] = found?.features ?? [];
      expect(strong.drop).toBeGreaterThan(0.1);
      expect(weak.drop).toBeGreaterThan(0.005);
      expect(weak.drop).toBeLessThan(strong.drop / 4);
      expect(unused).toMatchObject({ drop: 0, spread: 0, own: 0 });
      expect(strong.own).toBeCloseTo(2 / 2.5, 12); // the trainer's measure, as shares
      // Seeded: the same sample and shuffles give the same figures.
      expect((await permutationImportance(runner, data, { rows: 4_000, repeats: 3, seed: 7 }))?.features.map((f) => f.drop)).toEqual(found?.features.map((f) => f.drop));
      expect((await permutationImportance(runner, data, { rows: 4_000, repeats: 3, seed: 8 }))?.features[0].drop).not.toBe(strong.drop);
    } finally {
      runner.close();
    }
  });

  it('has no figures on a sample of one class, where AUC is undefined', async () => {
    const runner = ModelRunner.open(file, 'model.onnx', 3);
    try {
      expect(await permutationImportance(runner, { ...data, labels: new Float32Array(ROWS) }, { rows: 1_000, repeats: 1, seed: 7 })).toBeUndefined();
    } finally {
      runner.close();
    }
  });

  it('skips the shuffles when their estimated CPU time passes what the budget leaves, and says so; a larger allowance measures', async () => {
    const runner = ModelRunner.open(file, 'model.onnx', 3);
    try {
      const skipped = await permutationImportance(runner, data, { rows: 4_000, repeats: 3, seed: 7 }, { measure: 'coefficient', values: [0, -0.5, 2] }, 0);
      expect(skipped).toMatchObject({ metric: 'auc', rows: 4_000, repeats: 3, measure: 'coefficient', features: [] });
      expect(skipped?.skipped).toMatch(/^skipped: its 9 scorings would take about [\d.]+ CPU seconds, over the 0\.0 the budget leaves it$/);
      const measured = await permutationImportance(runner, data, { rows: 4_000, repeats: 3, seed: 7 }, undefined, 3_600);
      expect(measured?.skipped).toBeUndefined();
      expect(measured?.features.map((f) => f.feature)).toEqual(['strong', 'weak', 'unused']);
    } finally {
      runner.close();
    }
  });
});
