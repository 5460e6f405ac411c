import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sqlString, withDuckDB, scalar } from '../../../sql/duckdb';
import { columnMoments, readFeatureMatrix, type FeatureMatrix } from '../../../features/feature-matrix';
import { holdoutSplit, type HoldoutSplit } from '../../holdout';
import { solveSymmetric } from '../../../../contracts/linalg';
import { trainLogistic } from '../logistic-trainer';
import { rocAuc } from '../../../evaluate/metrics';
import { chunkSums, type ChunkSumsRequest } from './chunk-sums';
import { chunkCondition, planChunks } from './chunks';
import { trainLogisticStreaming, type StreamingColumns } from './local';
import { addChunkSums, STEP_SIZES, type ChunkSums, type ThetaSums, type LogisticOptions, type TrainerResult } from '../../../../contracts/newton';

const DATA = path.resolve(__dirname, '..', '..', '..', '..', 'node_modules', 'vega-datasets', 'data');

/** 16 numeric features of a flight, from its schedule, distance and airports; the label is a departure delay over 15 minutes. */
const FEATURES = [
  'hour_of_day', 'hour_sin', 'hour_cos', 'day_of_week', 'weekend', 'destination_hub', 'log_distance', 'distance_k',
  'long_haul', 'origin_lat', 'origin_lon', 'destination_lat', 'destination_lon', 'lat_delta', 'lon_delta', 'origin_hub',
];
const LABEL = 'delayed';
/** The flights spec's trainer settings (early stopping after 2 steps without a better holdout loss). */
const FLIGHTS_OPTIONS: LogisticOptions = { l2: 1e-4, maxIterations: 30, tolerance: 1e-7, patience: 2 };
/** ~156K fit rows in chunks of 23K: 7 chunks, the last smaller. */
const ROWS_PER_CHUNK = 23_000;

/**
 * Twelve days of the real flights sample (2001-02-01..12, ~196K rows) as a feature file, sorted by every
 * column as the project's feature files are. Hub membership and the hour's sine and cosine are
 * deliberately correlated with other columns, as real features are.
 *
 * The window matters for the comparison with trainLogistic, whose float32 sums inside ONNX Runtime put
 * its weights off the float64 answer by a data-dependent amount: 4.5e-6 here, but 4.9e-5 on
 * 2001-01-01..12 and 3.5e-5 on 2001-04-02..15 (where it also picks a different best iteration, its
 * holdout losses being equal in float32). The streaming trainer agrees with float64 JS to ~1e-12 on
 * every window, which is what the tight assertions below check; the 1e-5 ones against trainLogistic
 * hold on this window only.
 */
async function writeFeatureFile(file: string): Promise<void> {
  const hubs = "('ATL', 'ORD', 'DFW', 'LAX', 'DEN', 'PHX')";
  await withDuckDB((connection) =>
    connection.run(`COPY (
      WITH airports AS (SELECT iata, latitude, longitude FROM read_csv(${sqlString(path.join(DATA, 'airports.csv'))}))
      SELECT f.date,
        hour(f.date) + minute(f.date) / 60.0 AS hour_of_day,
        sin(2 * pi() * hour(f.date) / 24) AS hour_sin,
        cos(2 * pi() * hour(f.date) / 24) AS hour_cos,
        isodow(f.date) AS day_of_week,
        (isodow(f.date) >= 6)::INT AS weekend,
        (f.destination IN ${hubs})::INT AS destination_hub,
        ln(f.distance) AS log_distance,
        f.distance / 1000.0 AS distance_k,
        (f.distance > 1000)::INT AS long_haul,
        coalesce(ao.latitude, 0) AS origin_lat,
        coalesce(ao.longitude, 0) AS origin_lon,
        coalesce(ad.latitude, 0) AS destination_lat,
        coalesce(ad.longitude, 0) AS destination_lon,
        abs(coalesce(ao.latitude, 0) - coalesce(ad.latitude, 0)) AS lat_delta,
        abs(coalesce(ao.longitude, 0) - coalesce(ad.longitude, 0)) AS lon_delta,
        (f.origin IN ${hubs})::INT AS origin_hub,
        (f.delay > 15)::INT AS ${LABEL}
      FROM read_parquet(${sqlString(path.join(DATA, 'flights-3m.parquet'))}) f
      LEFT JOIN airports ao ON ao.iata = f.origin
      LEFT JOIN airports ad ON ad.iata = f.destination
      WHERE f.date >= DATE '2001-02-01' AND f.date < DATE '2001-02-13'
      ORDER BY ALL
    ) TO ${sqlString(file)} (FORMAT parquet, ROW_GROUP_SIZE 16384)`),
  );
}

// ---- A plain float64 JS reference: no ONNX Runtime, no float32 sums. ----

// Bound once: under jest's sandbox a global lookup of `Math` in a hot loop costs ~10× the call itself.
const { abs, exp, log1p, max } = Math;

/** softplus(z) − y z and the sums the graphs compute, in float64 over a matrix; theta rounded to float32 as both trainers feed it. */
function referenceSums(m: FeatureMatrix, theta: number[]): ThetaSums {
  const { rows, width: k, x } = m;
  const y = m.y as Float32Array;
  const t = Float32Array.from(theta);
  const gradient = new Float64Array(k);
  const hessian = new Float64Array(k * k);
  let lossSum = 0;
  for (let r = 0, at = 0; r < rows; r++, at += k) {
    let z = 0;
    for (let j = 0; j < k; j++) z += x[at + j] * t[j];
    const p = 1 / (1 + exp(-z));
    lossSum += max(z, 0) + log1p(exp(-abs(z))) - y[r] * z;
    const w = p * (1 - p);
    for (let a = 0; a < k; a++) {
      const xa = x[at + a];
      gradient[a] += xa * (p - y[r]);
      for (let b = 0; b <= a; b++) hessian[a * k + b] += w * xa * x[at + b];
    }
  }
  for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) hessian[b * k + a] = hessian[a * k + b];
  return { lossSum, gradient: Array.from(gradient), hessian: Array.from(hessian) };
}

function referenceLoss(m: FeatureMatrix, theta: number[]): number {
  const { rows, width: k, x } = m;
  const y = m.y as Float32Array;
  const t = Float32Array.from(theta);
  let sum = 0;
  for (let r = 0, at = 0; r < rows; r++, at += k) {
    let z = 0;
    for (let j = 0; j < k; j++) z += x[at + j] * t[j];
    sum += max(z, 0) + log1p(exp(-abs(z))) - y[r] * z;
  }
  return sum / rows;
}

/** trainLogistic's algorithm, line for line, in float64 JS; from `start` instead of the base rate when given. */
function referenceTrainer(train: FeatureMatrix, holdout: FeatureMatrix, options: LogisticOptions, start?: number[]): TrainerResult {
  const k = train.width;
  const l2 = Array.from({ length: k }, (_, j) => (j === k - 1 ? 0 : options.l2));
  const penalty = (theta: number[]) => 0.5 * theta.reduce((s, t, i) => s + l2[i] * t * t, 0);
  const positives = (train.y as Float32Array).reduce((s, y) => s + y, 0);
  const rate = Math.min(Math.max(positives / train.rows, 1e-6), 1 - 1e-6);
  let theta = new Array<number>(k).fill(0);
  theta[k - 1] = Math.log(rate / (1 - rate));
  if (start) theta = [...start];
  let best = { theta, validationLoss: Infinity, iteration: 0 };
  let stale = 0;
  let stopReason: TrainerResult['stopReason'] = 'max-iterations';
  const history: TrainerResult['history'] = [];
  for (let iteration = 1; iteration <= options.maxIterations; iteration++) {
    const sums = referenceSums(train, theta);
    const loss = sums.lossSum / train.rows + penalty(theta);
    const gradient = sums.gradient.map((g, i) => g / train.rows + l2[i] * theta[i]);
    const direction = solveSymmetric(sums.hessian.map((h, i) => h / train.rows + (i % (k + 1) === 0 ? l2[i / (k + 1)] : 0)), gradient);
    const slope = gradient.reduce((s, g, i) => s + g * direction[i], 0);
    let stepSize = 1;
    let next = theta.map((t, i) => t - direction[i]);
    let nextLoss = referenceLoss(train, next) + penalty(next);
    while (nextLoss > loss - 1e-4 * stepSize * slope && stepSize > 1 / 1024) {
      stepSize /= 2;
      next = theta.map((t, i) => t - stepSize * direction[i]);
      nextLoss = referenceLoss(train, next) + penalty(next);
    }
    const validationLoss = referenceLoss(holdout, next);
    if (validationLoss < best.validationLoss) {
      best = { theta: next, validationLoss, iteration };
      stale = 0;
    } else {
      stale++;
    }
    theta = next;
    history.push({ iteration, trainLoss: nextLoss, validationLoss, gradientNorm: Math.hypot(...gradient), stepSize });
    if (Math.abs(loss - nextLoss) <= options.tolerance * Math.max(1, Math.abs(loss))) {
      stopReason = 'converged';
      break;
    }
    if (stale >= options.patience) {
      stopReason = 'early-stopped';
      break;
    }
  }
  const bestRecord = history.find((h) => h.iteration === best.iteration);
  return { theta: best.theta, iterations: history.length, bestIteration: best.iteration, trainLoss: bestRecord?.trainLoss ?? NaN, validationLoss: best.validationLoss, stopReason, history, resumedFrom: 0 };
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let largest = 0;
  for (let i = 0; i < a.length; i++) largest = Math.max(largest, Math.abs(a[i] - b[i]));
  return largest;
}

const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

/** Holdout AUC of a model's parameters. */
function holdoutAuc(holdout: FeatureMatrix, theta: number[]): number {
  const k = holdout.width;
  const scores = new Float64Array(holdout.rows);
  for (let r = 0; r < holdout.rows; r++) {
    let z = 0;
    for (let j = 0; j < k; j++) z += holdout.x[r * k + j] * theta[j];
    scores[r] = 1 / (1 + exp(-z));
  }
  return rocAuc(scores, holdout.y as Float32Array);
}

/** Same iterations, stop, best iteration and step sizes. */
function expectSamePath(actual: TrainerResult, expected: TrainerResult): void {
  expect(actual.iterations).toBe(expected.iterations);
  expect(actual.stopReason).toBe(expected.stopReason);
  expect(actual.bestIteration).toBe(expected.bestIteration);
  expect(actual.history.map((h) => h.stepSize)).toEqual(expected.history.map((h) => h.stepSize));
}

/** The same path; weights within `weights`; every holdout loss within `losses` (relative). */
function expectSameTraining(actual: TrainerResult, expected: TrainerResult, tolerance: { weights: number; losses: number }): void {
  expectSamePath(actual, expected);
  expect(maxAbsDifference(actual.theta, expected.theta)).toBeLessThan(tolerance.weights);
  expect(relative(actual.validationLoss, expected.validationLoss)).toBeLessThan(tolerance.losses);
  actual.history.forEach((h, i) => expect(relative(h.validationLoss, expected.history[i].validationLoss)).toBeLessThan(tolerance.losses));
}

describe('the streaming logistic trainer, on features of the real flights sample', () => {
  let dir: string;
  let file: string;
  let columns: StreamingColumns;
  let split: HoldoutSplit;
  let train: FeatureMatrix;
  let holdout: FeatureMatrix;
  let flightsRun: Promise<TrainerResult> | undefined;
  /** The streaming run with the flights settings, shared by the tests that compare against it. */
  const flightsStreaming = () => (flightsRun ??= trainLogisticStreaming(file, columns, split, FLIGHTS_OPTIONS, ROWS_PER_CHUNK));

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-streaming-'));
    file = path.join(dir, 'features.parquet');
    await writeFeatureFile(file);
    const { mean, std } = await columnMoments(file, FEATURES);
    columns = { features: FEATURES, label: LABEL, center: mean, scale: std };
    split = await holdoutSplit(file, 'date', 0.2, ['date', ...FEATURES]);
    const matrix = { features: FEATURES, label: LABEL, center: mean, scale: std, bias: true };
    train = await readFeatureMatrix(file, { ...matrix, where: split.fit });
    holdout = await readFeatureMatrix(file, { ...matrix, where: split.holdout });
  });

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('plans chunks covering exactly the rows of each side of the split, once each, in order', async () => {
    expect(split.fit).toContain('date'); // a day condition, not a row range
    for (const where of [split.fit, split.holdout, 'file_row_number % 3 = 1']) {
      const chunks = await planChunks(file, where, ROWS_PER_CHUNK, LABEL);
      const [rows, positives] = await withDuckDB(async (c) => {
        const reader = await c.runAndReadAll(`SELECT count(*), sum(${LABEL}) FROM read_parquet(${sqlString(file)}, file_row_number = true) WHERE ${where}`);
        return reader.getRowsJS()[0].map(Number);
      });
      expect(chunks.reduce((s, c) => s + c.rows, 0)).toBe(rows);
      expect(chunks.reduce((s, c) => s + (c.positives ?? NaN), 0)).toBe(positives);
      chunks.forEach((chunk, i) => {
        expect(chunk.rows).toBe(i < chunks.length - 1 ? ROWS_PER_CHUNK : rows - ROWS_PER_CHUNK * (chunks.length - 1));
        if (i > 0) expect(chunk.from).toBeGreaterThanOrEqual(chunks[i - 1].to);
      });
      const counted = await withDuckDB(async (c) =>
        Promise.all(chunks.map(async (chunk) => Number(await scalar(c, `SELECT count(*) FROM read_parquet(${sqlString(file)}, file_row_number = true) WHERE ${chunkCondition(chunk)}`)))),
      );
      expect(counted).toEqual(chunks.map((c) => c.rows));
    }
    expect((await planChunks(file, split.fit, ROWS_PER_CHUNK)).length).toBe(7);
  });

  it('sums a whole file as the sum of its chunks (in batches of any size), and as float64 JS does', async () => {
    const k = FEATURES.length + 1;
    const theta = Array.from({ length: k }, (_, j) => 0.05 * Math.sin(j + 1));
    const request: ChunkSumsRequest = { ...columns, theta, trials: STEP_SIZES.map((s) => theta.map((t) => t * s)) };
    const [whole] = await planChunks(file, undefined, Number.MAX_SAFE_INTEGER);
    const all = await chunkSums(file, whole, request);
    const parts: ChunkSums[] = [];
    for (const chunk of await planChunks(file, undefined, ROWS_PER_CHUNK)) parts.push(await chunkSums(file, chunk, { ...request, batchRows: 5_000 }));
    const summed = addChunkSums(parts);

    const everything = await readFeatureMatrix(file, { features: FEATURES, label: LABEL, center: columns.center, scale: columns.scale, bias: true });
    const reference = referenceSums(everything, theta);
    expect(all.rows).toBe(everything.rows);
    expect(summed.rows).toBe(all.rows);
    expect(summed.positives).toBe(all.positives);
    expect(all.positives).toBe((everything.y as Float32Array).reduce((s, y) => s + y, 0));
    // Sums of O(1) terms over n rows: compared at a precision relative to n.
    const n = all.rows;
    for (const [actual, expected, precision] of [
      [summed, all, 1e-13],
      [all, { atTheta: reference, trialLossSums: request.trials?.map((t) => referenceLoss(everything, t) * n) }, 1e-11],
    ] as const) {
      expect(Math.abs((actual.atTheta?.lossSum ?? NaN) - (expected.atTheta?.lossSum ?? NaN))).toBeLessThan(precision * n);
      expect(maxAbsDifference(actual.atTheta?.gradient ?? [], expected.atTheta?.gradient ?? [NaN])).toBeLessThan(precision * n);
      expect(maxAbsDifference(actual.atTheta?.hessian ?? [], expected.atTheta?.hessian ?? [NaN])).toBeLessThan(precision * n);
      expect(maxAbsDifference(actual.trialLossSums ?? [], expected.trialLossSums ?? [NaN])).toBeLessThan(precision * n);
    }
  });

  it("sums the normal equations (the linear trainer's XᵀX, Xᵀy, Σ y²) over chunks as float64 JS does, and refuses chunks summed two ways", async () => {
    const request: ChunkSumsRequest = { ...columns, normalEquations: true };
    const parts: ChunkSums[] = [];
    for (const chunk of await planChunks(file, undefined, ROWS_PER_CHUNK)) parts.push(await chunkSums(file, chunk, { ...request, batchRows: 7_000 }));
    const { normal } = addChunkSums(parts);
    const m = await readFeatureMatrix(file, { features: FEATURES, label: LABEL, center: columns.center, scale: columns.scale, bias: true });
    const k = m.width;
    const xtx = new Float64Array(k * k);
    const xty = new Float64Array(k);
    let yy = 0;
    for (let i = 0; i < m.rows; i++) {
      const y = (m.y as Float32Array)[i];
      yy += y * y;
      for (let a = 0; a < k; a++) {
        xty[a] += m.x[i * k + a] * y;
        for (let b = 0; b < k; b++) xtx[a * k + b] += m.x[i * k + a] * m.x[i * k + b];
      }
    }
    const n = m.rows;
    expect(maxAbsDifference(normal?.xtx ?? [], Array.from(xtx))).toBeLessThan(1e-11 * n);
    expect(maxAbsDifference(normal?.xty ?? [], Array.from(xty))).toBeLessThan(1e-11 * n);
    expect(Math.abs((normal?.yy ?? NaN) - yy)).toBeLessThan(1e-11 * n);
    expect(() => addChunkSums([parts[0], { rows: 1, positives: 0 }])).toThrow('addChunkSums: some chunks have normal and others not');
  });

  it('trains the model trainLogistic trains, and the model float64 arithmetic gives (early stopping)', async () => {
    const streaming = await flightsStreaming();
    const inMemory = await trainLogistic(train, holdout, FLIGHTS_OPTIONS);
    expect(streaming.stopReason).toBe('early-stopped');
    expectSameTraining(streaming, inMemory, { weights: 1e-5, losses: 1e-6 });
    expect(holdoutAuc(holdout, streaming.theta).toFixed(4)).toBe(holdoutAuc(holdout, inMemory.theta).toFixed(4));
    // trainLogistic sums in float32 inside ONNX Runtime; the streaming sums are float64 and agree with plain JS far closer.
    expectSameTraining(streaming, referenceTrainer(train, holdout, FLIGHTS_OPTIONS), { weights: 1e-9, losses: 1e-10 });
  });

  it('trains the model trainLogistic trains when it runs to convergence', async () => {
    const options = { ...FLIGHTS_OPTIONS, patience: 30 };
    const streaming = await trainLogisticStreaming(file, columns, split, options, 60_000);
    const inMemory = await trainLogistic(train, holdout, options);
    expect(streaming.stopReason).toBe('converged');
    expectSameTraining(streaming, inMemory, { weights: 1e-5, losses: 1e-6 });
    expect(holdoutAuc(holdout, streaming.theta).toFixed(4)).toBe(holdoutAuc(holdout, inMemory.theta).toFixed(4));
    expectSameTraining(streaming, referenceTrainer(train, holdout, options), { weights: 1e-9, losses: 1e-10 });
  });

  it('backtracks as trainLogistic does from a checkpoint far from the optimum', async () => {
    const far = Array.from({ length: FEATURES.length + 1 }, (_, j) => (j % 2 ? 2 : -2));
    const resume = { iteration: 0, theta: far, bestTheta: far, bestValidationLoss: Infinity, bestIteration: 0, stale: 0, history: [] };
    const streaming = await trainLogisticStreaming(file, columns, split, FLIGHTS_OPTIONS, 60_000, { resume });
    expect(streaming.history[0].stepSize).toBeLessThan(1);
    expectSamePath(streaming, await trainLogistic(train, holdout, FLIGHTS_OPTIONS, resume));
    // Not the weights: from this start trainLogistic's float32 sums put them 3.6e-5 off float64 JS, which the streaming trainer matches.
    expectSameTraining(streaming, referenceTrainer(train, holdout, FLIGHTS_OPTIONS, far), { weights: 1e-9, losses: 1e-10 });
  });

  it('gives the same model however the rows are cut into chunks and batches', async () => {
    const fewer = await trainLogisticStreaming(file, columns, split, FLIGHTS_OPTIONS, 60_000, { batchRows: 7_000 });
    // Only the order of float64 additions differs: ~1e-13 observed.
    expectSameTraining(fewer, await flightsStreaming(), { weights: 1e-10, losses: 1e-12 });
  });
});
