import { baselineOf, decidePromotion } from './promotion';
import type { ClassificationMetrics } from './metrics';


const metrics = (logLoss: number, auc = 0.7): ClassificationMetrics => ({ rows: 1000, positiveRate: 0.2, auc, logLoss, accuracy: 0.8, precision: 0.5, recall: 0.1, threshold: 0.5, calibration: [] });

describe('promotion', () => {
  it('the baseline is the log loss of always predicting the training rate', () => {
    const baseline = baselineOf(0.2, 0.2);
    expect(baseline.logLoss).toBeCloseTo(-(0.2 * Math.log(0.2) + 0.8 * Math.log(0.8)), 12);
    // Another validation rate: the same prediction scores worse.
    expect(baselineOf(0.2, 0.3).logLoss).toBeGreaterThan(baseline.logLoss);
  });

  it('a candidate that does not beat the baseline is not eligible, and the failed gate says so', () => {
    const baseline = baselineOf(0.2, 0.2);
    const worse = decidePromotion(metrics(baseline.logLoss + 0.001, 0.588), { beat_baseline: true }, 0.005, undefined, baseline);
    expect(worse.eligible).toBe(false);
    expect(worse.reasons[0]).toBe('FAIL: log loss 0.5014 does not beat the baseline 0.5004 of always predicting the training rate 20.0% (gates.beat_baseline)');
    const better = decidePromotion(metrics(0.45), { beat_baseline: true }, 0.005, undefined, baseline);
    expect(better.eligible).toBe(true);
    expect(better.reasons[0]).toBe('pass: log loss 0.4500 beats the baseline 0.5004 of always predicting the training rate 20.0%');
  });

  it('gates.beat_baseline: false (and specs recorded before the gate) leave it out', () => {
    const baseline = baselineOf(0.2, 0.2);
    expect(decidePromotion(metrics(0.9), { beat_baseline: false }, 0.005, undefined, baseline).eligible).toBe(true);
    expect(decidePromotion(metrics(0.9), {}, 0.005, undefined, baseline).reasons).toEqual(['pass: no champion yet']);
  });
});
