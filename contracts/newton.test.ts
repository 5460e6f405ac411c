
import { addChunkSums, chooseStep, finishIteration, lineSearch, startIteration, startState, STEP_SIZES, trainerResult, type ChunkSums, type LineSearch, type NewtonProblem, type LogisticOptions } from './newton';

/**
 * The driver's rules on hand-made sums, where every threshold can be hit exactly. (The end-to-end
 * tests compare it with trainLogistic on real data, where the line search rarely backtracks.)
 */

const OPTIONS: LogisticOptions = { l2: 0, maxIterations: 5, tolerance: 1e-7, patience: 2 };
/** One fit row and one holdout row, so a sum is a mean; no penalty unless a test sets one. */
const PROBLEM: NewtonProblem = { width: 2, fitRows: 1, holdoutRows: 1, options: OPTIONS };

/** A line search at loss 1 with slope 1, so candidate i passes Armijo iff its loss ≤ 1 − 1e-4 · 2⁻ⁱ. */
function search(): LineSearch {
  return { theta: [0, 0], loss: 1, slope: 1, gradientNorm: 1, candidates: STEP_SIZES.map((s) => [s, -s]) };
}

const trials = (lossSums: number[], rows = 1): ChunkSums => ({ rows, positives: 0, trialLossSums: lossSums });
const flat = (value: number) => STEP_SIZES.map(() => value);

describe('the streaming Newton driver', () => {
  it('starts at zero weights and the log-odds of the base rate, or at a checkpoint', () => {
    const state = startState({ ...PROBLEM, fitRows: 100 }, 25);
    expect(state.checkpoint.theta).toEqual([0, Math.log(25 / 75)]);
    expect(state.checkpoint.bestValidationLoss).toBe(Infinity);
    expect(startState({ ...PROBLEM, fitRows: 100 }, 0).checkpoint.theta[1]).toBeCloseTo(Math.log(1e-6 / (1 - 1e-6)), 12);
    const resumed = startState(PROBLEM, NaN, { ...state.checkpoint, iteration: 3 });
    expect(resumed.resumedFrom).toBe(3);
    expect(() => startState(PROBLEM, NaN)).toThrow(/positive labels is unknown/);
    expect(() => startState({ ...PROBLEM, holdoutRows: 0 }, 0)).toThrow(/no holdout rows/);
    expect(() => startState({ ...PROBLEM, width: 3 }, 0, state.checkpoint)).toThrow(/checkpoint has 2 parameters/);
  });

  it('normalizes by the fit rows, penalizes the weights but not the intercept, and steps along the Newton direction', () => {
    const problem: NewtonProblem = { ...PROBLEM, fitRows: 4, options: { ...OPTIONS, l2: 0.5 } };
    const state = { ...startState(problem, 2, { iteration: 0, theta: [2, 1], bestTheta: [2, 1], bestValidationLoss: Infinity, bestIteration: 0, stale: 0, history: [] }) };
    // Σ over 4 rows: mean gradient [1, 3], mean Hessian diag(1.5, 2): plus the penalty, g = [1 + 1, 3], H = diag(2, 2).
    const s = lineSearch(problem, state, { rows: 4, positives: 2, atTheta: { lossSum: 8, gradient: [4, 12], hessian: [6, 0, 0, 8] } });
    expect(s.loss).toBe(2 + 0.25 * 4);
    expect(s.slope).toBeCloseTo(2 * 1 + 3 * 1.5, 12);
    const expected = [[2 - 1, 1 - 1.5], [2 - 1 / 1024, 1 - 1.5 / 1024]];
    [s.candidates[0], s.candidates[10]].forEach((candidate, c) => candidate.forEach((t, i) => expect(t).toBeCloseTo(expected[c][i], 12)));
    expect(() => lineSearch(problem, state, { rows: 3, positives: 2, atTheta: { lossSum: 8, gradient: [4, 12], hessian: [6, 0, 0, 8] } })).toThrow(/summed 3 rows, the plan has 4/);
    expect(() => lineSearch(problem, state, { rows: 4, positives: 2 })).toThrow(/need a gradient/);
  });

  it('takes the first step size meeting the Armijo rule (at the bound included), else the last; a NaN loss stops the search', () => {
    const armijo = (i: number) => 1 - 1e-4 * STEP_SIZES[i];
    expect(chooseStep(PROBLEM, search(), trials([armijo(0) + 1e-6, armijo(1) - 1e-6, ...flat(0).slice(2)])).index).toBe(1);
    expect(chooseStep(PROBLEM, search(), trials([armijo(0), ...flat(0).slice(1)])).index).toBe(0);
    expect(chooseStep(PROBLEM, search(), trials([...flat(1).slice(0, 3), armijo(3), ...flat(0).slice(4)]))).toEqual({ index: 3, nextLoss: armijo(3) });
    expect(chooseStep(PROBLEM, search(), trials(flat(2)))).toEqual({ index: 10, nextLoss: 2 });
    expect(chooseStep(PROBLEM, search(), trials([2, NaN, ...flat(0).slice(2)])).index).toBe(1);
    expect(() => chooseStep(PROBLEM, search(), trials(flat(0), 2))).toThrow(/summed 2 rows/);
    expect(() => chooseStep(PROBLEM, search(), trials([0, 0]))).toThrow(/all 11 candidates/);
  });

  it('keeps the best holdout loss, counts stale steps, and tests convergence before patience', () => {
    let state = startState(PROBLEM, 0.5);
    expect(startIteration(PROBLEM, state)).toEqual([0, 0]);
    // Iteration 1: full step, loss 1 → 0.5, holdout 0.7 (better than Infinity).
    state = finishIteration(PROBLEM, state, search(), trials(flat(0.5)), trials([0.7, ...flat(9).slice(1)]));
    expect(state.checkpoint).toMatchObject({ iteration: 1, theta: [1, -1], bestTheta: [1, -1], bestIteration: 1, bestValidationLoss: 0.7, stale: 0 });
    expect(state.stopReason).toBeUndefined();
    // Iteration 2: half step, holdout 0.8 (worse): stale 1.
    state = finishIteration(PROBLEM, state, search(), trials([2, 0.5, ...flat(0.5).slice(2)]), trials([9, 0.8, ...flat(9).slice(2)]));
    expect(state.checkpoint).toMatchObject({ iteration: 2, theta: [0.5, -0.5], bestTheta: [1, -1], bestIteration: 1, stale: 1 });
    expect(state.checkpoint.history[1]).toEqual({ iteration: 2, trainLoss: 0.5, validationLoss: 0.8, gradientNorm: 1, stepSize: 0.5 });
    // Iteration 3: worse again (stale 2 = patience) but the loss moved by less than the tolerance: converged wins.
    const converged = finishIteration(PROBLEM, state, search(), trials(flat(1 - 1e-8)), trials(flat(0.9)));
    expect(converged.stopReason).toBe('converged');
    const stopped = finishIteration(PROBLEM, state, search(), trials(flat(0.5)), trials(flat(0.9)));
    expect(stopped.stopReason).toBe('early-stopped');
    expect(startIteration(PROBLEM, stopped)).toBeUndefined();
    expect(trainerResult(stopped)).toMatchObject({ theta: [1, -1], iterations: 3, bestIteration: 1, trainLoss: 0.5, validationLoss: 0.7, stopReason: 'early-stopped', resumedFrom: 0 });
  });

  it('stops at maxIterations, as trainLogistic does', () => {
    const state = startState(PROBLEM, 0.5, { iteration: 5, theta: [1, 1], bestTheta: [1, 1], bestValidationLoss: 0.5, bestIteration: 4, stale: 1, history: [] });
    expect(startIteration(PROBLEM, state)).toBeUndefined();
    expect(trainerResult(state)).toMatchObject({ stopReason: 'max-iterations', iterations: 5, resumedFrom: 5, trainLoss: NaN });
  });

  it('adds chunk sums, and refuses to add sums taken at different points', () => {
    const a: ChunkSums = { rows: 2, positives: 1, atTheta: { lossSum: 1, gradient: [1, 2], hessian: [1, 0, 0, 1] }, trialLossSums: [1, 2] };
    const b: ChunkSums = { rows: 3, positives: 2, atTheta: { lossSum: 2, gradient: [3, 4], hessian: [1, 1, 1, 1] }, trialLossSums: [3, 4] };
    expect(addChunkSums([a, b])).toEqual({ rows: 5, positives: 3, atTheta: { lossSum: 3, gradient: [4, 6], hessian: [2, 1, 1, 2] }, trialLossSums: [4, 6] });
    expect(a.atTheta?.gradient).toEqual([1, 2]); // the parts are not modified
    expect(() => addChunkSums([a, { rows: 1, positives: 0 }])).toThrow(/some chunks/);
    expect(() => addChunkSums([a, { ...b, trialLossSums: [1] }])).toThrow(/trial loss sums of 1 numbers added to 2/);
    expect(() => addChunkSums([])).toThrow(/no sums/);
  });
});
