import * as ort from 'onnxruntime-node';
import { fingerprintOf } from '../../storage/artifact-store';
import { metered } from '../../cost/meter';
import { readFeatureMatrix, type FeatureMatrix } from '../../features/feature-matrix';
import { readDictionary } from '../../features/categories';
import { standardizedDesign } from '../logistic/standardized';
import { normalEquationsGraph } from '../logistic/logistic-graphs';
import { writeLogisticModel } from '../logistic/logistic-model';
import { solveSymmetric } from '../../../contracts/linalg';
import type { TrainerResult } from '../../../contracts/newton';
import type { TrainContext } from '../trainer';
import type { FeatureSet } from '../../../contracts/artifacts';
import type { LinearParams } from './params';

/** Bumped when the trainer's output for the same inputs would change. */
const TRAINER_VERSION = 1;

/**
 * Rows per ONNX Runtime call of the normal equations: each call sums its rows in float32 (relative error about
 * √rows × 6e-8), and the calls' sums are added in float64.
 */
const CHUNK_ROWS = 32_768;

/**
 * Ridge regression on the standardized design (the logistic trainer's: numeric features, and the indicators of each
 * categorical one's most frequent categories), solved in closed form: (XᵀX + l2·N·I) θ = Xᵀy, the intercept not
 * penalized. XᵀX and Xᵀy are Gemms in ONNX Runtime over chunks of rows, the K×K system a Cholesky solve in float64.
 * Exported like the logistic model (standardization in the graph), its output `prediction`.
 */
export async function trainLinearModel({ store, loaded, features, params: trainer, hooks }: TrainContext<LinearParams>) {
  const fingerprint = linearFingerprint(features, trainer);
  return metered(async (meter) => {
    const output = await store.reuseOrBuild('models', fingerprint, async (staging) => {
      const { design, trainFile, mean, std, matrixOptions } = await standardizedDesign(store, features, trainer.one_hot_top, hooks.alive);
      const matrix = await readFeatureMatrix(trainFile, matrixOptions);
      hooks.alive?.();
      meter.rowsIn = matrix.rows;
      meter.bytesIn = features.train.bytes;
      const theta = await solveRidge(matrix, trainer.l2);
      const result = closedFormResult(theta, meanSquaredError(matrix, theta));
      return writeLogisticModel(staging, { loaded, features, fingerprint, design, mean, std, categories: await readDictionary(store, features), output: 'prediction' }, result);
    });
    meter.bytesOut = output.value.bytes;
    return { model: output.value, reused: output.reused };
  });
}

/** θ of (XᵀX + l2·N·I) θ = Xᵀy for `matrix` (its last column the bias, not penalized). */
export async function solveRidge(matrix: FeatureMatrix, l2: number): Promise<Float64Array> {
  const k = matrix.width;
  const y = matrix.y;
  if (!y) throw new Error('solveRidge: the matrix has no labels');
  const session = await ort.InferenceSession.create(normalEquationsGraph(k));
  const xtx = new Float64Array(k * k);
  const xty = new Float64Array(k);
  try {
    for (let start = 0; start < matrix.rows; start += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, matrix.rows - start);
      const out = await session.run({
        x: new ort.Tensor('float32', matrix.x.subarray(start * k, (start + n) * k), [n, k]),
        y: new ort.Tensor('float32', y.subarray(start, start + n), [n, 1]),
      });
      const a = out.xtx.data as Float32Array;
      const b = out.xty.data as Float32Array;
      for (let i = 0; i < k * k; i++) xtx[i] += a[i];
      for (let i = 0; i < k; i++) xty[i] += b[i];
    }
  } finally {
    await session.release();
  }
  return ridgeSolve(xtx, xty, l2 * matrix.rows);
}

/** θ of (XᵀX + penalty·I) θ = Xᵀy, the last (bias) parameter not penalized; `xtx` is K×K row-major (left unchanged). */
export function ridgeSolve(xtx: ArrayLike<number>, xty: ArrayLike<number>, penalty: number): Float64Array {
  const k = xty.length;
  const a = Float64Array.from(xtx);
  for (let j = 0; j < k - 1; j++) a[j * k + j] += penalty;
  return solveSymmetric(a, xty);
}

/** A closed-form fit's result: one step, no holdout to stop on; both losses are the training rows' mean squared error. */
export function closedFormResult(theta: ArrayLike<number>, mse: number): TrainerResult {
  return { theta: Array.from(theta), iterations: 1, bestIteration: 1, trainLoss: mse, validationLoss: mse, stopReason: 'converged', history: [], resumedFrom: 0 };
}

/** The model fingerprint of the linear trainer's settings on a feature set: in memory or data-parallel, the same model. */
export function linearFingerprint(features: FeatureSet, trainer: LinearParams): string {
  return fingerprintOf('model', 'linear_regression', TRAINER_VERSION, features.fingerprint, JSON.stringify(trainer));
}

/** Mean squared error of θ on the matrix's rows. */
function meanSquaredError(matrix: FeatureMatrix, theta: Float64Array): number {
  const { x, y, width, rows } = matrix;
  let total = 0;
  for (let i = 0; i < rows; i++) {
    let prediction = 0;
    for (let j = 0; j < width; j++) prediction += x[i * width + j] * theta[j];
    const error = prediction - (y as Float32Array)[i];
    total += error * error;
  }
  return total / rows;
}
