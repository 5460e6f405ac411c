/**
 * Solves A x = b for a symmetric positive-definite K×K matrix A (row-major) by Cholesky decomposition,
 * in float64. If A is not positive definite (numerically), a growing ridge is added to its diagonal.
 */
export function solveSymmetric(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const k = b.length;
  for (let ridge = 0; ridge < 1e6; ridge = ridge === 0 ? 1e-10 : ridge * 100) {
    const l = cholesky(a, k, ridge);
    if (l) return substitute(l, b, k);
  }
  throw new Error('solveSymmetric: matrix is not positive definite even with a large ridge');
}

function cholesky(a: ArrayLike<number>, k: number, ridge: number): Float64Array | undefined {
  const l = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * k + j] + (i === j ? ridge * Math.max(1, Math.abs(a[i * k + i])) : 0);
      for (let m = 0; m < j; m++) sum -= l[i * k + m] * l[j * k + m];
      if (i === j) {
        if (!(sum > 0)) return undefined;
        l[i * k + i] = Math.sqrt(sum);
      } else {
        l[i * k + j] = sum / l[j * k + j];
      }
    }
  }
  return l;
}

function substitute(l: Float64Array, b: ArrayLike<number>, k: number): Float64Array {
  const z = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let sum = b[i];
    for (let m = 0; m < i; m++) sum -= l[i * k + m] * z[m];
    z[i] = sum / l[i * k + i];
  }
  const x = new Float64Array(k);
  for (let i = k - 1; i >= 0; i--) {
    let sum = z[i];
    for (let m = i + 1; m < k; m++) sum -= l[m * k + i] * x[m];
    x[i] = sum / l[i * k + i];
  }
  return x;
}
