import { solveSymmetric } from './linalg';

describe('solveSymmetric', () => {
  it('solves a positive-definite system', () => {
    const a = [4, 2, 0, 2, 5, 1, 0, 1, 3];
    const x = [1, -2, 3];
    const b = [4 * 1 + 2 * -2, 2 * 1 + 5 * -2 + 3, -2 + 9];
    const solved = solveSymmetric(a, b);
    x.forEach((xi, i) => expect(solved[i]).toBeCloseTo(xi, 10));
  });

  it('falls back to a ridge for a singular matrix instead of returning NaN', () => {
    const solved = solveSymmetric([1, 1, 1, 1], [2, 2]);
    expect(Number.isFinite(solved[0]) && Number.isFinite(solved[1])).toBe(true);
    expect(solved[0] + solved[1]).toBeCloseTo(2, 4);
  });
});
