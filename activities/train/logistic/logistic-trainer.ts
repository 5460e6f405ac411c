import * as ort from 'onnxruntime-node';
import type { FeatureMatrix } from '../../features/feature-matrix';
import { solveSymmetric } from '../../../contracts/linalg';
import { advance, stopReasonOf, trainerResult, type LogisticOptions, type TrainerCheckpoint, type TrainerResult } from '../../../contracts/newton';
import { forwardGraph, newtonStepGraph } from './logistic-graphs';

/**
 * Damped Newton (IRLS) for L2-penalized logistic regression. Every step's loss, gradient and Hessian
 * are computed by an ONNX graph in ONNX Runtime; only the K×K solve happens in JS. `train` and
 * `validation` must be standardized with a trailing bias column. `onIteration` receives a checkpoint
 * after every step (the caller heartbeats it); `resume` continues from one.
 */
export async function trainLogistic(
  train: FeatureMatrix,
  validation: FeatureMatrix,
  options: LogisticOptions,
  resume?: TrainerCheckpoint,
  onIteration?: (checkpoint: TrainerCheckpoint) => void | Promise<void>,
): Promise<TrainerResult> {
  const k = train.width;
  if (!train.y || !validation.y) throw new Error('trainLogistic needs labels for both matrices');
  const l2 = Array.from({ length: k }, (_, j) => (j === k - 1 ? 0 : options.l2));
  const step = await ort.InferenceSession.create(newtonStepGraph(train.rows, k, l2));
  const forward = await ort.InferenceSession.create(forwardGraph(k));
  const xTrain = new ort.Tensor('float32', train.x, [train.rows, k]);
  const yTrain = new ort.Tensor('float32', train.y, [train.rows, 1]);
  const xValid = new ort.Tensor('float32', validation.x, [validation.rows, k]);
  const yValid = new ort.Tensor('float32', validation.y, [validation.rows, 1]);
  const thetaTensor = (theta: ArrayLike<number>) => new ort.Tensor('float32', Float32Array.from(theta), [k, 1]);
  const lossAt = async (x: ort.Tensor, y: ort.Tensor, theta: ArrayLike<number>) =>
    Number((await forward.run({ x, y, theta: thetaTensor(theta) }, ['loss'])).loss.data[0]);

  try {
    let state: TrainerCheckpoint = resume ?? initialState(train.y, k);
    const resumedFrom = resume?.iteration ?? 0;
    let stopReason: TrainerResult['stopReason'] = 'max-iterations';
    while (state.iteration < options.maxIterations) {
      const out = await step.run({ x: xTrain, y: yTrain, theta: thetaTensor(state.theta) });
      const loss = Number(out.loss.data[0]);
      const gradient = out.gradient.data as Float32Array;
      const direction = solveSymmetric(out.hessian.data as Float32Array, gradient);
      const slope = gradient.reduce((s, gi, i) => s + gi * direction[i], 0);
      // Backtracking (Armijo) line search along the Newton direction.
      let stepSize = 1;
      let next = state.theta.map((t, i) => t - direction[i]);
      let nextLoss = (await lossAt(xTrain, yTrain, next)) + penalty(next, l2);
      while (nextLoss > loss - 1e-4 * stepSize * slope && stepSize > 1 / 1024) {
        stepSize /= 2;
        next = state.theta.map((t, i) => t - stepSize * direction[i]);
        nextLoss = (await lossAt(xTrain, yTrain, next)) + penalty(next, l2);
      }
      const validationLoss = await lossAt(xValid, yValid, next);
      state = advance(state, next, { trainLoss: nextLoss, validationLoss, gradientNorm: Math.hypot(...gradient), stepSize });
      await onIteration?.(state);
      const stop = stopReasonOf(loss, state, options);
      if (stop) {
        stopReason = stop;
        break;
      }
    }
    return trainerResult({ checkpoint: state, resumedFrom, stopReason });
  } finally {
    await step.release();
    await forward.release();
  }
}

/** Start at zero weights with the intercept at the log-odds of the base rate. */
function initialState(y: Float32Array, k: number): TrainerCheckpoint {
  let positives = 0;
  for (let i = 0; i < y.length; i++) positives += y[i];
  const rate = Math.min(Math.max(positives / y.length, 1e-6), 1 - 1e-6);
  const theta = new Array<number>(k).fill(0);
  theta[k - 1] = Math.log(rate / (1 - rate));
  return { iteration: 0, theta, bestTheta: theta, bestValidationLoss: Infinity, bestIteration: 0, stale: 0, history: [] };
}

function penalty(theta: number[], l2: number[]): number {
  return 0.5 * theta.reduce((s, t, i) => s + l2[i] * t * t, 0);
}
