import * as ort from 'onnxruntime-node';
import type { FeatureMatrix } from '../../features/feature-matrix';
import { advance, trainerResult, type TrainerCheckpoint, type TrainerResult } from '../../../contracts/newton';
import { direction, dot, remember, type CurvaturePair } from './lbfgs';
import { softmaxLossGraph } from './softmax-graphs';

export interface SoftmaxOptions {
  /** Per-row L2 penalty on the standardized weights (not the intercepts). */
  l2: number;
  maxIterations: number;
  /** Converged when the largest gradient component of the penalized mean loss is below this. */
  tolerance: number;
  /** Iterations without a better holdout loss before training stops. */
  patience: number;
}

/** A softmax fit's checkpoint: the shared trainer checkpoint (θ is [P,K] row-major) and the L-BFGS memory. */
export interface SoftmaxCheckpoint extends TrainerCheckpoint {
  memory: CurvaturePair[];
}

/**
 * Rows per ONNX Runtime call: each call sums its rows in float32, and the calls' sums are added in float64.
 */
const CHUNK_ROWS = 32_768;

/**
 * Halvings of the step the backtracking line search tries (down to 1/1024, as the logistic trainer's). Past the
 * optimum's neighbourhood the loss, summed in float32 per chunk, stops falling by more than its rounding: on the
 * four-class flights bench every iteration after the 37th took 10–30 halvings for no change in the 7th decimal.
 * A direction no step of these lowers enough is as converged as the sums can tell.
 */
const MAX_HALVINGS = 10;

/** The Armijo sufficient-decrease constant. */
const ARMIJO = 1e-4;

/**
 * Multinomial logistic regression by L-BFGS with a backtracking (Armijo) line search: the loss and gradient of
 * every candidate are ONNX graphs run by ONNX Runtime over chunks of rows, the two-loop recursion is float64 in
 * JS. `train` and `holdout` are standardized with a trailing bias column and their labels are class codes 0…K−1.
 * Early stopping keeps the parameters of the best holdout loss (without a holdout, the fit runs to convergence); `onIteration` gets a checkpoint after every
 * iteration, and `resume` continues from one, taking the same steps as an uninterrupted fit.
 */
export async function trainSoftmax(
  train: FeatureMatrix,
  holdout: FeatureMatrix | undefined,
  classes: number,
  options: SoftmaxOptions,
  resume?: SoftmaxCheckpoint,
  onIteration?: (checkpoint: SoftmaxCheckpoint) => void | Promise<void>,
): Promise<TrainerResult> {
  const p = train.width;
  const session = await ort.InferenceSession.create(softmaxLossGraph(p, classes));
  const fit = lossFunction(session, train, classes);
  const held = holdout && lossFunction(session, holdout, classes);
  // The penalty of every weight but the bias row's (the last P-th row).
  const penalized = (i: number) => Math.floor(i / classes) < p - 1;
  const objective = async (theta: number[]) => {
    const { loss, gradient } = await fit(theta);
    let penalty = 0;
    for (let i = 0; i < theta.length; i++) {
      if (!penalized(i)) continue;
      penalty += theta[i] * theta[i];
      gradient[i] += options.l2 * theta[i];
    }
    return { loss: loss + 0.5 * options.l2 * penalty, gradient };
  };
  try {
    let state: SoftmaxCheckpoint = resume ?? initialState(train, p, classes);
    const resumedFrom = resume?.iteration ?? 0;
    let stopReason: TrainerResult['stopReason'] = 'max-iterations';
    let at = await objective(state.theta);
    while (state.iteration < options.maxIterations) {
      let memory = state.memory;
      let d = direction(at.gradient, memory);
      let slope = dot(at.gradient, d);
      if (!(slope < 0)) {
        // Not a descent direction (the estimate went stale): start the memory again from steepest descent.
        memory = [];
        d = at.gradient.map((v) => -v);
        slope = dot(at.gradient, d);
      }
      // The first step has no curvature to scale it: a unit step along −g/‖g‖, as L-BFGS-B takes.
      let step = memory.length === 0 ? 1 / Math.max(1, Math.sqrt(-slope)) : 1;
      let next = state.theta.map((t, i) => t + step * d[i]);
      let there = await objective(next);
      for (let k = 0; k < MAX_HALVINGS && !(there.loss <= at.loss + ARMIJO * step * slope); k++) {
        step /= 2;
        next = state.theta.map((t, i) => t + step * d[i]);
        there = await objective(next);
      }
      if (!(there.loss <= at.loss + ARMIJO * step * slope)) {
        stopReason = 'converged'; // no step along the direction lowers the loss enough: as low as float32 sums can tell
        break;
      }
      // Without a holdout, the training loss stands in: it falls with every step, so the last θ is the best.
      const validationLoss = held ? (await held(next)).loss : there.loss;
      const gradientNorm = Math.sqrt(dot(there.gradient, there.gradient));
      const advanced = advance(state, next, { trainLoss: there.loss, validationLoss, gradientNorm, stepSize: step });
      state = { ...advanced, memory: remember(memory, state.theta, next, at.gradient, there.gradient) };
      at = there;
      await onIteration?.(state);
      if (Math.max(...there.gradient.map(Math.abs)) <= options.tolerance) {
        stopReason = 'converged';
        break;
      }
      if (state.stale >= options.patience) {
        stopReason = 'early-stopped';
        break;
      }
    }
    return trainerResult({ checkpoint: state, resumedFrom, stopReason });
  } finally {
    await session.release();
  }
}

/** The mean multinomial log loss of a matrix's rows at θ, and its gradient, from the graph over chunks. */
function lossFunction(session: ort.InferenceSession, matrix: FeatureMatrix, classes: number) {
  const { rows, width, x } = matrix;
  const y = matrix.y;
  if (!y) throw new Error('trainSoftmax needs labels');
  const oneHot = new Float32Array(rows * classes);
  for (let i = 0; i < rows; i++) oneHot[i * classes + y[i]] = 1;
  return async (theta: number[]) => {
    const thetaTensor = new ort.Tensor('float32', Float32Array.from(theta), [width, classes]);
    let loss = 0;
    const gradient = new Array<number>(theta.length).fill(0);
    for (let start = 0; start < rows; start += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, rows - start);
      const out = await session.run({
        x: new ort.Tensor('float32', x.subarray(start * width, (start + n) * width), [n, width]),
        y: new ort.Tensor('float32', oneHot.subarray(start * classes, (start + n) * classes), [n, classes]),
        theta: thetaTensor,
      });
      loss += Number(out.loss.data[0]);
      const g = out.gradient.data as Float32Array;
      for (let i = 0; i < g.length; i++) gradient[i] += g[i];
    }
    return { loss: loss / rows, gradient: gradient.map((v) => v / rows) };
  };
}

/** Zero weights, each class's intercept the log of its share of the fit rows (centred): the class-shares model. */
function initialState(train: FeatureMatrix, width: number, classes: number): SoftmaxCheckpoint {
  const counts = new Array<number>(classes).fill(0);
  for (const code of train.y ?? []) counts[code] += 1;
  const logs = counts.map((c) => Math.log(Math.max(c, 0.5) / train.rows));
  const mean = logs.reduce((s, v) => s + v, 0) / classes;
  const theta = new Array<number>(width * classes).fill(0);
  for (let k = 0; k < classes; k++) theta[(width - 1) * classes + k] = logs[k] - mean;
  return { iteration: 0, theta, bestTheta: theta, bestValidationLoss: Infinity, bestIteration: 0, stale: 0, history: [], memory: [] };
}
