import { classificationMetrics, rocAuc, rocCurve } from './metrics';

describe('rocAuc', () => {
  it('is the share of positive/negative pairs ranked right, ties counting half', () => {
    // Pairs (pos, neg): (0.9,0.1) right, (0.9,0.4) right, (0.4,0.1) right, (0.4,0.4) tie → (3 + 0.5) / 4
    expect(rocAuc([0.9, 0.4, 0.4, 0.1], [1, 1, 0, 0])).toBeCloseTo(3.5 / 4, 12);
  });

  it('is 1 for a perfect ranking, 0 for a reversed one and NaN with one class', () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(rocAuc([0.3, 0.6], [1, 1])).toBeNaN();
  });
});

describe('classificationMetrics', () => {
  const scores = [0.9, 0.7, 0.3, 0.2, 0.6];
  const labels = [1, 0, 1, 0, 1];
  const m = classificationMetrics(scores, labels, 0.5, 2);

  it('computes log loss, accuracy, precision and recall by hand', () => {
    const expected = -(Math.log(0.9) + Math.log(0.3) + Math.log(0.3) + Math.log(0.8) + Math.log(0.6)) / 5;
    expect(m.logLoss).toBeCloseTo(expected, 12);
    // predicted 1 at >= 0.5: rows 0,1,4 → TP = 2 (rows 0, 4), FP = 1 (row 1), FN = 1 (row 2)
    expect(m.accuracy).toBeCloseTo(3 / 5, 12);
    expect(m.precision).toBeCloseTo(2 / 3, 12);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.positiveRate).toBeCloseTo(3 / 5, 12);
    // pairs: pos {0.9,0.3,0.6} × neg {0.7,0.2}: 0.9>0.7,0.9>0.2,0.3<0.7,0.3>0.2,0.6<0.7,0.6>0.2 → 4/6
    expect(m.auc).toBeCloseTo(4 / 6, 12);
  });

  it('puts each score in its calibration bin with the observed rate', () => {
    expect(m.calibration).toEqual([
      { lower: 0, upper: 0.5, count: 2, meanPredicted: 0.25, observedRate: 0.5 },
      { lower: 0.5, upper: 1, count: 3, meanPredicted: (0.9 + 0.7 + 0.6) / 3, observedRate: 2 / 3 },
    ]);
  });

  it('refuses mismatched lengths and empty input', () => {
    expect(() => classificationMetrics([0.1], [1, 0])).toThrow('1 scores but 2 labels');
    expect(() => classificationMetrics([], [])).toThrow('no rows');
  });
});

describe('rocCurve', () => {
  it('steps through the thresholds by hand, keeping ties together', () => {
    // scores 0.9(1) 0.8(0) 0.4(1) 0.4(0) 0.1(0): 2 positives, 3 negatives
    expect(rocCurve([0.9, 0.8, 0.4, 0.4, 0.1], [1, 0, 1, 0, 0])).toEqual([
      [0, 0],
      [0, 0.5],
      [1 / 3, 0.5],
      [2 / 3, 1],
      [1, 1],
    ]);
  });

  it('thins a long curve to about the points asked for, and its area matches the AUC', () => {
    const n = 20_000;
    const scores = Array.from({ length: n }, (_, i) => ((i * 7919) % n) / n);
    const labels = scores.map((s, i) => (s + ((i * 104729) % 1000) / 2000 > 0.75 ? 1 : 0));
    const curve = rocCurve(scores, labels, 100);
    expect(curve.length).toBeGreaterThan(90);
    expect(curve.length).toBeLessThanOrEqual(102);
    let area = 0;
    for (let i = 1; i < curve.length; i++) area += ((curve[i][0] - curve[i - 1][0]) * (curve[i][1] + curve[i - 1][1])) / 2;
    expect(area).toBeCloseTo(rocAuc(scores, labels), 3);
  });

  it('is empty when one class is missing', () => {
    expect(rocCurve([0.1, 0.2], [1, 1])).toEqual([]);
  });
});
