/**
 * The driver of the streaming logistic-regression trainer: trainLogistic's damped Newton (IRLS) with
 * its Armijo line search, early stopping and convergence test, computed from sums over chunks of rows
 * instead of from a matrix in memory.
 *
 * Pure TypeScript on plain JSON values (no Node, DuckDB or ONNX Runtime, no clock, no randomness), so
 * workflow code can run it: its state is small (O(K²) at most) and every value it hands out or takes
 * in is a payload an activity can carry. It imports only `solveSymmetric` (pure). The trainers' shared
 * types (options, checkpoints, results) live here, at the bottom, for the in-memory trainer
 * (activities/train/logistic), the data-parallel fit workflow and the model artifact alike.
 *
 * One iteration is two passes over the data, each of which can be spread over any number of processes:
 * 1. `startIteration` → theta; every fit chunk returns `chunkSums` at theta (Σ loss, Σ gradient, Σ Hessian).
 * 2. `lineSearch` on their sum → the Newton direction and all 11 candidate steps; every fit chunk and
 *    every holdout chunk returns Σ loss at each candidate.
 * 3. `finishIteration` on those sums picks the step exactly as trainLogistic's backtracking loop would
 *    and returns the next state, which says when training stops; `trainerResult` gives the result.
 */
import { solveSymmetric } from './linalg';


/** Σ over a chunk's rows at one parameter vector, unnormalized and unpenalized. */
export interface ThetaSums {
  lossSum: number;
  /** Σ xᵢ (pᵢ − yᵢ), K numbers. */
  gradient: number[];
  /** Σ pᵢ (1 − pᵢ) xᵢ xᵢᵀ, K×K row-major. */
  hessian: number[];
}

/** What one chunk (or the sum of several) contributes: plain numbers, float64, safe to add in any process. */
export interface ChunkSums {
  rows: number;
  /** Σ label. */
  positives: number;
  /** Present when the sums were asked for at a theta. */
  atTheta?: ThetaSums;
  /** Σ loss at each trial theta, in the order the trials were given. */
  trialLossSums?: number[];
  /** The normal equations' sums (the linear regression trainer): XᵀX (K×K row-major), Xᵀy and Σ y². */
  normal?: NormalSums;
}

/** Σ over rows of the standardized design with its bias column: what a ridge fit solves from. */
export interface NormalSums {
  xtx: number[];
  xty: number[];
  yy: number;
}

/** What the driver knows about the data, fixed for a training run. */
export interface NewtonProblem {
  /** K: features + 1 (the intercept, last). */
  width: number;
  /** Rows the loss is averaged over: all the fit chunks' rows. */
  fitRows: number;
  /** Rows of the holdout (early stopping): all the holdout chunks' rows. */
  holdoutRows: number;
  options: LogisticOptions;
}

/** Where training is; a TrainerCheckpoint (what a retry resumes from) plus how it ended, once it has. */
export interface NewtonState {
  checkpoint: TrainerCheckpoint;
  /** The iteration the run resumed from (0 for a fresh start), reported in the result. */
  resumedFrom: number;
  stopReason?: TrainerResult['stopReason'];
}

/** One iteration's line search: the candidates to evaluate, and what choosing among them needs. */
export interface LineSearch {
  /** The iteration's starting theta. */
  theta: number[];
  /** Penalized mean training loss at theta. */
  loss: number;
  /** gradient · direction, for the Armijo rule. */
  slope: number;
  gradientNorm: number;
  /** The candidate parameter vectors theta − step · direction, one per STEP_SIZES entry, in that order. */
  candidates: number[][];
}

/** The step sizes the backtracking line search tries, in order: 1, 1/2, …, 1/1024. */
export const STEP_SIZES: readonly number[] = Array.from({ length: 11 }, (_, i) => 1 / 2 ** i);

/** The Armijo sufficient-decrease constant. */
const ARMIJO = 1e-4;

/**
 * The first state: a checkpoint to resume from, else zero weights with the intercept at the log-odds
 * of the fit rows' base rate (`positives` of `problem.fitRows`), as trainLogistic starts.
 */
export function startState(problem: NewtonProblem, positives: number, resume?: TrainerCheckpoint): NewtonState {
  if (!(problem.fitRows > 0)) throw new Error('streaming trainer: no fit rows to train on');
  if (!(problem.holdoutRows > 0)) throw new Error('streaming trainer: no holdout rows to early-stop on');
  if (resume) {
    if (resume.theta.length !== problem.width) throw new Error(`streaming trainer: the checkpoint has ${resume.theta.length} parameters, the problem ${problem.width}`);
    return { checkpoint: resume, resumedFrom: resume.iteration };
  }
  if (!Number.isFinite(positives)) throw new Error('streaming trainer: the count of positive labels is unknown (plan the chunks with the label column)');
  const k = problem.width;
  const rate = Math.min(Math.max(positives / problem.fitRows, 1e-6), 1 - 1e-6);
  const theta = new Array<number>(k).fill(0);
  theta[k - 1] = Math.log(rate / (1 - rate));
  return { checkpoint: { iteration: 0, theta, bestTheta: theta, bestValidationLoss: Infinity, bestIteration: 0, stale: 0, history: [] }, resumedFrom: 0 };
}

/** The theta to sum loss, gradient and Hessian at over the fit chunks, or undefined when training is over. */
export function startIteration(problem: NewtonProblem, state: NewtonState): number[] | undefined {
  if (state.stopReason || state.checkpoint.iteration >= problem.options.maxIterations) return undefined;
  return state.checkpoint.theta;
}

/**
 * From the fit chunks' sums at the iteration's theta: the penalized mean loss, gradient and Hessian,
 * the Newton direction, and every candidate step, so one pass can evaluate them all.
 */
export function lineSearch(problem: NewtonProblem, state: NewtonState, sums: ChunkSums): LineSearch {
  const { width: k, fitRows } = problem;
  const theta = state.checkpoint.theta;
  checkRows('the fit chunks', sums.rows, fitRows);
  const at = sums.atTheta;
  if (!at || at.gradient.length !== k || at.hessian.length !== k * k) throw new Error(`streaming trainer: the sums at theta need a gradient of ${k} and a Hessian of ${k * k} numbers`);
  const l2 = penalties(problem);
  const loss = at.lossSum / fitRows + penalty(theta, l2);
  const gradient = at.gradient.map((g, i) => g / fitRows + l2[i] * theta[i]);
  const hessian = at.hessian.map((h, i) => h / fitRows + (i % (k + 1) === 0 ? l2[i / (k + 1)] : 0));
  const direction = solveSymmetric(hessian, gradient);
  const slope = gradient.reduce((s, gi, i) => s + gi * direction[i], 0);
  const candidates = STEP_SIZES.map((step) => theta.map((t, i) => t - step * direction[i])); // 1·d is d: the same bits as trainLogistic's first `t - d`
  return { theta, loss, slope, gradientNorm: Math.hypot(...gradient), candidates };
}

/**
 * The step trainLogistic's backtracking loop takes: the first candidate whose penalized loss meets the
 * Armijo rule `nextLoss <= loss - 1e-4 · step · slope`, else the last (1/1024). Written as the loop's
 * own test (`nextLoss > bound` keeps halving), so a NaN loss stops the search where trainLogistic stops.
 */
export function chooseStep(problem: NewtonProblem, search: LineSearch, fitTrials: ChunkSums): { index: number; nextLoss: number } {
  checkRows('the fit chunks', fitTrials.rows, problem.fitRows);
  const sums = trialSums('fit', fitTrials);
  const l2 = penalties(problem);
  const last = STEP_SIZES.length - 1;
  for (let index = 0; ; index++) {
    const nextLoss = sums[index] / problem.fitRows + penalty(search.candidates[index], l2);
    if (!(nextLoss > search.loss - ARMIJO * STEP_SIZES[index] * search.slope) || index === last) return { index, nextLoss };
  }
}

/**
 * Ends the iteration: the chosen step, the holdout loss there, the best-so-far and staleness, then
 * trainLogistic's stopping tests in its order (convergence first, then patience).
 */
export function finishIteration(problem: NewtonProblem, state: NewtonState, search: LineSearch, fitTrials: ChunkSums, holdoutTrials: ChunkSums): NewtonState {
  const { index, nextLoss } = chooseStep(problem, search, fitTrials);
  checkRows('the holdout chunks', holdoutTrials.rows, problem.holdoutRows);
  const next = search.candidates[index];
  const validationLoss = trialSums('holdout', holdoutTrials)[index] / problem.holdoutRows;
  const checkpoint = advance(state.checkpoint, next, { trainLoss: nextLoss, validationLoss, gradientNorm: search.gradientNorm, stepSize: STEP_SIZES[index] });
  const stopReason = stopReasonOf(search.loss, checkpoint, problem.options);
  return { checkpoint, resumedFrom: state.resumedFrom, ...(stopReason ? { stopReason } : {}) };
}

/** The checkpoint after a step to `theta`: the iteration recorded, the best parameters by holdout loss, the staleness. Both trainers keep it so. */
export function advance(previous: TrainerCheckpoint, theta: number[], step: Omit<IterationRecord, 'iteration'>): TrainerCheckpoint {
  const improved = step.validationLoss < previous.bestValidationLoss;
  const iteration = previous.iteration + 1;
  return {
    iteration,
    theta,
    bestTheta: improved ? theta : previous.bestTheta,
    bestValidationLoss: improved ? step.validationLoss : previous.bestValidationLoss,
    bestIteration: improved ? iteration : previous.bestIteration,
    stale: improved ? 0 : previous.stale + 1,
    history: [...previous.history, { iteration, ...step }],
  };
}

/** Why training stops after this step, if it does: convergence of the training loss first, then patience. */
export function stopReasonOf(loss: number, checkpoint: TrainerCheckpoint, options: Pick<LogisticOptions, 'tolerance' | 'patience'>): TrainerResult['stopReason'] | undefined {
  const nextLoss = checkpoint.history[checkpoint.history.length - 1].trainLoss;
  if (Math.abs(loss - nextLoss) <= options.tolerance * Math.max(1, Math.abs(loss))) return 'converged';
  if (checkpoint.stale >= options.patience) return 'early-stopped';
  return undefined;
}

/** The result trainLogistic returns for the same run: the best parameters by holdout loss, and how training went. */
export function trainerResult(state: NewtonState): TrainerResult {
  const { checkpoint } = state;
  const best = checkpoint.history.find((h) => h.iteration === checkpoint.bestIteration);
  return {
    theta: checkpoint.bestTheta,
    iterations: checkpoint.iteration,
    bestIteration: checkpoint.bestIteration,
    trainLoss: best?.trainLoss ?? NaN,
    validationLoss: checkpoint.bestValidationLoss,
    stopReason: state.stopReason ?? 'max-iterations',
    history: checkpoint.history,
    resumedFrom: state.resumedFrom,
  };
}

/**
 * Adds chunks' sums, in the order given. Float64 addition is not associative: a caller that adds the
 * results of parallel activities should add them in chunk order (not completion order), so a rerun or
 * a replay gets the same bits.
 */
export function addChunkSums(parts: ChunkSums[]): ChunkSums {
  if (parts.length === 0) throw new Error('addChunkSums: no sums to add');
  for (const kind of ['atTheta', 'trialLossSums', 'normal'] as const) {
    const given = parts.filter((p) => p[kind]).length;
    if (given !== 0 && given !== parts.length) throw new Error(`addChunkSums: some chunks have ${kind} and others not`);
  }
  const total: ChunkSums = { rows: 0, positives: 0 };
  for (const part of parts) {
    total.rows += part.rows;
    total.positives += part.positives;
    if (part.atTheta) {
      const at = (total.atTheta ??= { lossSum: 0, gradient: part.atTheta.gradient.map(() => 0), hessian: part.atTheta.hessian.map(() => 0) });
      at.lossSum += part.atTheta.lossSum;
      addInto(at.gradient, part.atTheta.gradient, 'gradient');
      addInto(at.hessian, part.atTheta.hessian, 'Hessian');
    }
    if (part.trialLossSums) addInto((total.trialLossSums ??= part.trialLossSums.map(() => 0)), part.trialLossSums, 'trial loss sums');
    if (part.normal) {
      const normal = (total.normal ??= { xtx: part.normal.xtx.map(() => 0), xty: part.normal.xty.map(() => 0), yy: 0 });
      addInto(normal.xtx, part.normal.xtx, 'XᵀX');
      addInto(normal.xty, part.normal.xty, 'Xᵀy');
      normal.yy += part.normal.yy;
    }
  }
  return total;
}

/** Rows and positives of planned chunks (positives NaN when they were planned without the label). */
export function chunkTotals(chunks: ReadonlyArray<{ rows: number; positives?: number }>): { rows: number; positives: number } {
  let rows = 0;
  let positives = 0;
  for (const chunk of chunks) {
    rows += chunk.rows;
    positives += chunk.positives ?? NaN;
  }
  return { rows, positives };
}

function addInto(into: number[], values: number[], what: string): void {
  if (values.length !== into.length) throw new Error(`addChunkSums: ${what} of ${values.length} numbers added to ${into.length}`);
  for (let i = 0; i < into.length; i++) into[i] += values[i];
}

function trialSums(which: string, sums: ChunkSums): number[] {
  const trials = sums.trialLossSums;
  if (!trials || trials.length !== STEP_SIZES.length) throw new Error(`streaming trainer: the ${which} chunks need loss sums at all ${STEP_SIZES.length} candidates, got ${trials?.length ?? 0}`);
  return trials;
}

/** A sum over the wrong rows (a chunk missing or counted twice) must not pass for a mean. */
function checkRows(what: string, rows: number, expected: number): void {
  if (rows !== expected) throw new Error(`streaming trainer: ${what} summed ${rows} rows, the plan has ${expected}`);
}

/** The L2 penalty per parameter: the weights get options.l2, the intercept (last) none. */
function penalties(problem: NewtonProblem): number[] {
  return Array.from({ length: problem.width }, (_, j) => (j === problem.width - 1 ? 0 : problem.options.l2));
}

function penalty(theta: number[], l2: number[]): number {
  return 0.5 * theta.reduce((s, t, i) => s + l2[i] * t * t, 0);
}

export interface IterationRecord {
  iteration: number;
  trainLoss: number;
  validationLoss: number;
  gradientNorm: number;
  stepSize: number;
}

export interface LogisticOptions {
  /** Per-row L2 penalty on the (standardized) weights; the intercept is not penalized. */
  l2: number;
  maxIterations: number;
  /** Stop when the training loss improves by less than this (relative). */
  tolerance: number;
  /** Stop after this many iterations without a better validation loss. */
  patience: number;
}

/** Everything needed to continue training where a previous attempt stopped. Small: K+1 numbers per vector. */
export interface TrainerCheckpoint {
  iteration: number;
  theta: number[];
  bestTheta: number[];
  bestValidationLoss: number;
  bestIteration: number;
  stale: number;
  history: IterationRecord[];
}

export interface TrainerResult {
  /** Best parameters by validation loss: weights then intercept. */
  theta: number[];
  iterations: number;
  bestIteration: number;
  trainLoss: number;
  validationLoss: number;
  stopReason: 'converged' | 'early-stopped' | 'max-iterations';
  history: IterationRecord[];
  resumedFrom: number;
}
