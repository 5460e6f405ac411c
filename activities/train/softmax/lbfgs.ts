/**
 * Limited-memory BFGS (Nocedal & Wright, algorithm 7.4): the search direction from the last few steps and
 * gradient changes, by the two-loop recursion. Pure float64 arithmetic on plain arrays, so the memory is a
 * checkpoint payload and a resumed fit takes the very steps an uninterrupted one would.
 */

/** One step s = θₖ₊₁ − θₖ and its gradient change y = ∇ₖ₊₁ − ∇ₖ. */
export interface CurvaturePair {
  s: number[];
  y: number[];
}

/** Pairs kept: scikit-learn's (SciPy's L-BFGS-B) default. */
export const MEMORY = 10;

/** Σ aᵢ bᵢ in float64. */
export const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
};

/** The descent direction −H·gradient, H the inverse-Hessian estimate of `memory` (oldest first); −gradient without any. */
export function direction(gradient: ArrayLike<number>, memory: readonly CurvaturePair[]): number[] {
  const q = Array.from(gradient);
  const alphas: number[] = [];
  for (let m = memory.length - 1; m >= 0; m--) {
    const { s, y } = memory[m];
    const alpha = dot(s, q) / dot(y, s);
    alphas[m] = alpha;
    for (let i = 0; i < q.length; i++) q[i] -= alpha * y[i];
  }
  const newest = memory[memory.length - 1];
  const gamma = newest ? dot(newest.s, newest.y) / dot(newest.y, newest.y) : 1;
  const r = q.map((v) => gamma * v);
  for (let m = 0; m < memory.length; m++) {
    const { s, y } = memory[m];
    const beta = dot(y, r) / dot(y, s);
    for (let i = 0; i < r.length; i++) r[i] += s[i] * (alphas[m] - beta);
  }
  return r.map((v) => -v);
}

/**
 * The memory after a step from θ to θ' with gradients g and g': the pair added (the oldest dropped past
 * {@link MEMORY}) when it has positive curvature (sᵀy > 0, which keeps the estimate positive definite), else unchanged.
 */
export function remember(memory: readonly CurvaturePair[], from: number[], to: number[], gradient: ArrayLike<number>, next: ArrayLike<number>): CurvaturePair[] {
  const s = to.map((t, i) => t - from[i]);
  const y = s.map((_, i) => next[i] - gradient[i]);
  if (!(dot(s, y) > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y)))) return [...memory];
  return [...memory, { s, y }].slice(-MEMORY);
}

