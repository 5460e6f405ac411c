import * as ort from 'onnxruntime-node';
import { seededUniform } from '../../../contracts/seeded-random';
import type { FeatureMatrix } from '../../features/feature-matrix';
import { ModelRunner } from '../../inference/model-runner';
import { scoringModel } from '../logistic/logistic-graphs';
import { softmaxLossGraph } from './softmax-graphs';
import { trainSoftmax, type SoftmaxCheckpoint } from './softmax-trainer';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The softmax trainer on rows drawn from a known three-class model (two standardized features and a bias column):
 * its loss graph against the loss computed by hand, its fit recovering the generating weights, and a resumed fit
 * taking the same steps as an uninterrupted one.
 */
const K = 3;
const TRUE_THETA = [1.5, -1, -0.5, 0, 2, -2, 0.2, 0, -0.2]; // [P=3, K] row-major: two features, then the intercepts

function draw(rows: number, seed: number): FeatureMatrix {
  const next = seededUniform(seed);
  const x = new Float32Array(rows * 3);
  const y = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    x[i * 3] = 2 * next() - 1;
    x[i * 3 + 1] = 2 * next() - 1;
    x[i * 3 + 2] = 1;
    const z = [0, 1, 2].map((k) => [0, 1, 2].reduce((s, j) => s + x[i * 3 + j] * TRUE_THETA[j * K + k], 0));
    const e = z.map(Math.exp);
    const total = e.reduce((s, v) => s + v, 0);
    const u = next() * total;
    y[i] = u < e[0] ? 0 : u < e[0] + e[1] ? 1 : 2;
  }
  return { rows, width: 3, x, y };
}

/** Mean log loss of θ on a matrix, in float64 by hand. */
function meanLoss(m: FeatureMatrix, theta: number[]): number {
  let total = 0;
  for (let i = 0; i < m.rows; i++) {
    const z = [0, 1, 2].map((k) => [0, 1, 2].reduce((s, j) => s + m.x[i * 3 + j] * theta[j * K + k], 0));
    const max = Math.max(...z);
    total += max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0)) - z[(m.y as Float32Array)[i]];
  }
  return total / m.rows;
}

const options = { l2: 1e-4, maxIterations: 100, tolerance: 1e-6, patience: 1000 };

describe('the softmax trainer', () => {
  const train = draw(20_000, 1);
  const holdout = draw(5_000, 2);

  it("the loss graph's loss and gradient are the multinomial log loss and its derivative", async () => {
    const session = await ort.InferenceSession.create(softmaxLossGraph(3, K));
    const theta = [0.3, -0.2, 0.1, 0.5, 0, -0.4, 0.1, 0.2, -0.3];
    const out = await session.run({
      x: new ort.Tensor('float32', train.x, [train.rows, 3]),
      y: new ort.Tensor('float32', Float32Array.from({ length: train.rows * K }, (_, i) => (train.y?.[Math.floor(i / K)] === i % K ? 1 : 0)), [train.rows, K]),
      theta: new ort.Tensor('float32', Float32Array.from(theta), [3, K]),
    });
    expect(Number(out.loss.data[0]) / train.rows).toBeCloseTo(meanLoss(train, theta), 5);
    const gradient = out.gradient.data as Float32Array;
    for (let i = 0; i < theta.length; i++) {
      const h = 1e-4;
      const up = [...theta];
      const down = [...theta];
      up[i] += h;
      down[i] -= h;
      expect(gradient[i] / train.rows).toBeCloseTo((meanLoss(train, up) - meanLoss(train, down)) / (2 * h), 4);
    }
    await session.release();
  });

  it('recovers the generating weights up to the softmax\'s shift per row, and beats its own intercepts alone', async () => {
    const result = await trainSoftmax(train, holdout, K, options);
    expect(result.stopReason).toBe('converged');
    // A softmax is unchanged by adding one number to every class's weight of a column: compare centred rows.
    const centred = (theta: number[]) => [0, 1, 2].flatMap((j) => {
      const row = theta.slice(j * K, (j + 1) * K);
      const mean = row.reduce((s, v) => s + v, 0) / K;
      return row.map((v) => v - mean);
    });
    const fitted = centred(result.theta);
    centred(TRUE_THETA).forEach((t, i) => expect(Math.abs(fitted[i] - t)).toBeLessThan(0.12));
    expect(result.validationLoss).toBeLessThan(meanLoss(holdout, [0, 0, 0, 0, 0, 0, ...fitted.slice(6)]));
    expect(result.validationLoss).toBeCloseTo(meanLoss(holdout, result.theta), 5);
    // The exported graph scores like the trained parameters: its probabilities' log loss is the holdout loss.
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-softmax-')), 'model.onnx');
    fs.writeFileSync(file, scoringModel({ featureNames: ['a', 'b'], mean: [0, 0], std: [1, 1], weights: result.theta.slice(0, 6), intercept: result.theta.slice(6), output: 'probabilities', metadata: {} }));
    const runner = ModelRunner.open(file, 'model.onnx', 2);
    const features = Float32Array.from({ length: holdout.rows * 2 }, (_, i) => holdout.x[Math.floor(i / 2) * 3 + (i % 2)]);
    const p = runner.outputs(features, holdout.rows);
    runner.close();
    let loss = 0;
    for (let i = 0; i < holdout.rows; i++) loss -= Math.log(p[i * K + (holdout.y as Float32Array)[i]]);
    expect(loss / holdout.rows).toBeCloseTo(result.validationLoss, 5);
  });

  it('a fit resumed from a checkpoint takes the same steps as an uninterrupted one', async () => {
    const uninterrupted = await trainSoftmax(train, holdout, K, { ...options, maxIterations: 12 });
    let saved: SoftmaxCheckpoint | undefined;
    await trainSoftmax(train, holdout, K, { ...options, maxIterations: 5 }, undefined, (c) => void (saved = c));
    expect(saved?.iteration).toBe(5);
    expect(saved?.memory.length).toBeGreaterThan(0);
    const resumed = await trainSoftmax(train, holdout, K, { ...options, maxIterations: 12 }, JSON.parse(JSON.stringify(saved)) as SoftmaxCheckpoint);
    expect(resumed.resumedFrom).toBe(5);
    expect(resumed.history).toEqual(uninterrupted.history);
    expect(resumed.theta).toEqual(uninterrupted.theta);
  });
});
