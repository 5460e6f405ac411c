import * as ort from 'onnxruntime-node';
import type { FeatureMatrix } from '../../features/feature-matrix';
import { trainLogistic } from './logistic-trainer';
import { readMetadata } from '../../onnx/graph-builder';
import { forwardGraph, newtonStepGraph, scoringModel } from './logistic-graphs';

/** Deterministic pseudo-random numbers (mulberry32), so the tests see the same data every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Rows with `features` raw columns drawn around `means`, labels from a known logistic model. */
function synthetic(rows: number, trueWeights: number[], trueIntercept: number, seed: number) {
  const next = random(seed);
  const f = trueWeights.length;
  const raw = new Float32Array(rows * f);
  const y = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    let z = trueIntercept;
    for (let j = 0; j < f; j++) {
      const v = (next() - 0.5) * 4;
      raw[i * f + j] = v * (j + 1) + 10 * j; // different scales and offsets per column
      z += trueWeights[j] * v;
    }
    y[i] = next() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return { raw, y, f };
}

/** Standardize with a trailing bias column, as the trainer expects. */
function standardized(raw: Float32Array, y: Float32Array, f: number, mean: number[], std: number[]): FeatureMatrix {
  const rows = y.length;
  const x = new Float32Array(rows * (f + 1));
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < f; j++) x[i * (f + 1) + j] = (raw[i * f + j] - mean[j]) / std[j];
    x[i * (f + 1) + f] = 1;
  }
  return { rows, width: f + 1, x, y };
}

function moments(raw: Float32Array, rows: number, f: number) {
  const mean = Array.from({ length: f }, (_, j) => {
    let s = 0;
    for (let i = 0; i < rows; i++) s += raw[i * f + j];
    return s / rows;
  });
  const std = Array.from({ length: f }, (_, j) => {
    let s = 0;
    for (let i = 0; i < rows; i++) s += (raw[i * f + j] - mean[j]) ** 2;
    return Math.sqrt(s / rows);
  });
  return { mean, std };
}

describe('newtonStepGraph', () => {
  it('computes the penalized loss, gradient and Hessian that float64 JS computes', async () => {
    const rows = 50;
    const k = 3;
    const next = random(7);
    const x = Float32Array.from({ length: rows * k }, (_, i) => (i % k === k - 1 ? 1 : next() * 2 - 1));
    const y = Float32Array.from({ length: rows }, () => (next() < 0.4 ? 1 : 0));
    const theta = [0.3, -0.7, 0.1];
    const l2 = [0.05, 0.05, 0];
    const session = await ort.InferenceSession.create(newtonStepGraph(rows, k, l2));
    const out = await session.run({
      x: new ort.Tensor('float32', x, [rows, k]),
      y: new ort.Tensor('float32', y, [rows, 1]),
      theta: new ort.Tensor('float32', Float32Array.from(theta), [k, 1]),
    });
    let loss = 0;
    const gradient = l2.map((l, j) => l * theta[j]);
    const hessian = Array.from({ length: k * k }, (_, i) => (i % (k + 1) === 0 ? l2[i / (k + 1)] : 0));
    for (let i = 0; i < rows; i++) {
      const row = Array.from(x.subarray(i * k, (i + 1) * k));
      const z = row.reduce((s, v, j) => s + v * theta[j], 0);
      const p = 1 / (1 + Math.exp(-z));
      loss += (-(y[i] * Math.log(p) + (1 - y[i]) * Math.log(1 - p))) / rows;
      for (let a = 0; a < k; a++) {
        gradient[a] += ((p - y[i]) * row[a]) / rows;
        for (let b = 0; b < k; b++) hessian[a * k + b] += (p * (1 - p) * row[a] * row[b]) / rows;
      }
    }
    loss += 0.5 * theta.reduce((s, t, j) => s + l2[j] * t * t, 0);
    expect(Number(out.loss.data[0])).toBeCloseTo(loss, 5);
    Array.from(out.gradient.data as Float32Array).forEach((g, j) => expect(g).toBeCloseTo(gradient[j], 5));
    Array.from(out.hessian.data as Float32Array).forEach((h, j) => expect(h).toBeCloseTo(hessian[j], 5));
    await session.release();
  });
});

describe('trainLogistic and the exported scoring model', () => {
  const trueWeights = [1.5, -2, 0.5, 0];
  const trueIntercept = -0.5;
  const train = synthetic(40_000, trueWeights, trueIntercept, 1);
  const valid = synthetic(10_000, trueWeights, trueIntercept, 2);
  const { mean, std } = moments(train.raw, train.y.length, train.f);
  const trainMatrix = standardized(train.raw, train.y, train.f, mean, std);
  const validMatrix = standardized(valid.raw, valid.y, valid.f, mean, std);

  it('recovers the true weights with a few Newton steps', async () => {
    const result = await trainLogistic(trainMatrix, validMatrix, { l2: 0, maxIterations: 20, tolerance: 1e-9, patience: 20 });
    expect(result.stopReason).toBe('converged');
    expect(result.iterations).toBeLessThanOrEqual(10);
    // θ is on the standardized scale: the raw-variable weight is θ_j / std_j × (j + 1) (the column's scale).
    trueWeights.forEach((w, j) => expect(Math.abs((result.theta[j] / std[j]) * (j + 1) - w)).toBeLessThan(0.15));
    for (let i = 1; i < result.history.length; i++) expect(result.history[i].trainLoss).toBeLessThanOrEqual(result.history[i - 1].trainLoss + 1e-7);
  });

  it('resumes from a checkpoint instead of starting over', async () => {
    const checkpoints: number[] = [];
    let saved: Parameters<NonNullable<Parameters<typeof trainLogistic>[4]>>[0] | undefined;
    await trainLogistic(trainMatrix, validMatrix, { l2: 0, maxIterations: 2, tolerance: 1e-12, patience: 20 }, undefined, (c) => {
      saved = c;
    });
    expect(saved?.iteration).toBe(2);
    const resumed = await trainLogistic(trainMatrix, validMatrix, { l2: 0, maxIterations: 20, tolerance: 1e-9, patience: 20 }, saved, (c) => {
      checkpoints.push(c.iteration);
    });
    expect(resumed.resumedFrom).toBe(2);
    expect(checkpoints[0]).toBe(3);
  });

  it('exports one ONNX file whose scores equal the trainer forward pass to 1e-5, with its metadata', async () => {
    const result = await trainLogistic(trainMatrix, validMatrix, { l2: 1e-3, maxIterations: 20, tolerance: 1e-9, patience: 2 });
    const forward = await ort.InferenceSession.create(forwardGraph(trainMatrix.width));
    const trainerScores = (
      await forward.run({
        x: new ort.Tensor('float32', validMatrix.x, [validMatrix.rows, validMatrix.width]),
        y: new ort.Tensor('float32', validMatrix.y as Float32Array, [validMatrix.rows, 1]),
        theta: new ort.Tensor('float32', Float32Array.from(result.theta), [validMatrix.width, 1]),
      })
    ).probability.data as Float32Array;
    const names = ['a', 'b', 'c', 'd'];
    const bytes = scoringModel({ featureNames: names, mean, std, weights: result.theta.slice(0, 4), intercept: result.theta[4], metadata: { 'sluice.feature_names': JSON.stringify(names) } });
    const model = await ort.InferenceSession.create(bytes);
    expect(model.inputNames).toEqual(['features']);
    const exported = (await model.run({ features: new ort.Tensor('float32', valid.raw, [valid.y.length, 4]) })).probability.data as Float32Array;
    expect(exported.length).toBe(valid.y.length);
    let maxDiff = 0;
    for (let i = 0; i < exported.length; i++) maxDiff = Math.max(maxDiff, Math.abs(exported[i] - trainerScores[i]));
    expect(maxDiff).toBeLessThan(1e-5);
    expect(JSON.parse(readMetadata(bytes)['sluice.feature_names'])).toEqual(names);
    await forward.release();
    await model.release();
  });

  it('one-hots a categorical input inside the model: each code its indicator, an unseen category (NaN) none', async () => {
    // Inputs: a number, a categorical code (0, 1, 2 = a rarer category, NaN = never seen), another number.
    const design = [
      { input: 0, sql: '' },
      { input: 1, code: 0, sql: '' },
      { input: 1, code: 1, sql: '' },
      { input: 2, sql: '' },
    ];
    const mean = [1, 0.4, 0.3, -2];
    const std = [2, 0.5, 0.45, 3];
    const weights = [0.7, 1.5, -2, 0.25];
    const intercept = -0.3;
    const rows = [
      [1.5, 0, 4],
      [-3, 1, 0],
      [0, 2, 1],
      [2, Number.NaN, -1],
    ];
    const bytes = scoringModel({ featureNames: ['x', 'airport', 'z'], design, mean, std, weights, intercept, metadata: {} });
    const model = await ort.InferenceSession.create(bytes);
    const scores = (await model.run({ features: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, 3]) })).probability.data as Float32Array;
    const expected = rows.map(([x, code, z]) => {
      const designed = [x, code === 0 ? 1 : 0, code === 1 ? 1 : 0, z];
      const logit = designed.reduce((sum, v, j) => sum + ((v - mean[j]) / std[j]) * weights[j], intercept);
      return 1 / (1 + Math.exp(-logit));
    });
    for (let i = 0; i < rows.length; i++) expect(Math.abs(scores[i] - expected[i])).toBeLessThan(1e-6);
    // The rarer code and the unseen category share the baseline: the same score when the numbers are the same.
    const baseline = (await model.run({ features: new ort.Tensor('float32', Float32Array.from([0, 2, 1, 0, Number.NaN, 1]), [2, 3]) })).probability.data as Float32Array;
    expect(baseline[0]).toBeCloseTo(baseline[1], 7);
    await model.release();
  });

  it('scores two categorical inputs and no numeric one like the indicators they stand for, codes past the indicators at the baseline', async () => {
    // origin (input 1) has indicators for codes 0..2, destination (input 0) for codes 0 and 1; codes 3 and 7 are rarer ones.
    const design = [
      { input: 1, code: 0, sql: '' },
      { input: 1, code: 1, sql: '' },
      { input: 1, code: 2, sql: '' },
      { input: 0, code: 0, sql: '' },
      { input: 0, code: 1, sql: '' },
    ];
    const mean = [0.3, 0.2, 0.1, 0.5, 0.25];
    const std = [0.46, 0.4, 0.3, 0.5, 0.43];
    const weights = [0.4, -1.1, 0.8, 1.3, -0.6];
    const intercept = 0.2;
    const rows = [
      [0, 0],
      [1, 2],
      [3, 1],
      [Number.NaN, 7],
      [1, Number.NaN],
      [0, 3],
    ];
    const bytes = scoringModel({ featureNames: ['destination', 'origin'], design, mean, std, weights, intercept, metadata: {} });
    const model = await ort.InferenceSession.create(bytes);
    const scores = (await model.run({ features: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, 2]) })).probability.data as Float32Array;
    const expected = rows.map((row) => {
      const logit = design.reduce((sum, d, j) => sum + (((row[d.input] === d.code ? 1 : 0) - mean[j]) / std[j]) * weights[j], intercept);
      return 1 / (1 + Math.exp(-logit));
    });
    expect(new Set(expected.map((e) => e.toFixed(6))).size).toBeGreaterThan(4);
    for (let i = 0; i < rows.length; i++) expect(Math.abs(scores[i] - expected[i])).toBeLessThan(1e-6);
    await model.release();
  });
});
