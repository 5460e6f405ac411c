import { baselineOf, decidePromotion } from './promotion';
import type { ClassificationMetrics, MulticlassMetrics } from './metrics';


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

  it('gates any metric by name, in words, with each bound that fails', () => {
    const decision = decidePromotion(metrics(0.45, 0.995), { auc: { min: 0.6, max: 0.99 }, precision: { min: 0.3 }, recall: { min: 0.05 } }, 0.005);
    expect(decision.eligible).toBe(false);
    expect(decision.reasons).toEqual([
      'pass: AUC 0.9950 >= gates.auc.min 0.6',
      'FAIL: AUC 0.9950 > gates.auc.max 0.99',
      'pass: precision 0.5000 >= gates.precision.min 0.3',
      'pass: recall 0.1000 >= gates.recall.min 0.05',
      'pass: no champion yet',
    ]);
  });

  it('compares with the champion on promotion.metric, in its own direction and units', () => {
    const champion = { version: 3, metrics: metrics(0.45, 0.7) };
    // AUC by default: higher is better.
    expect(decidePromotion(metrics(0.44, 0.694), {}, 0.005, champion).reasons).toEqual(['FAIL: AUC 0.6940 vs champion v3 0.7000 on the same data (-0.0060, tolerance 0.005)']);
    // Log loss: lower is better, so a higher one is worse.
    const worse = decidePromotion(metrics(0.456, 0.9), {}, 0.005, champion, undefined, 'log_loss');
    expect(worse.eligible).toBe(false);
    expect(worse.reasons).toEqual(['FAIL: log loss 0.4560 vs champion v3 0.4500 on the same data (+0.0060, tolerance 0.005)']);
    expect(decidePromotion(metrics(0.454, 0.6), {}, 0.005, champion, undefined, 'log_loss').eligible).toBe(true);
  });

  it('a multiclass candidate must beat the training class shares, and compares on log loss by default', () => {
    const multiclass = (logLoss: number, baselineLogLoss: number): MulticlassMetrics => ({ task: 'multiclass', rows: 10, logLoss, accuracy: 0.6, macroF1: 0.4, perClass: [], confusion: [], baselineLogLoss });
    expect(decidePromotion(multiclass(1.2, 1.1), { beat_baseline: true }, 0.01).reasons).toEqual([
      "FAIL: log loss 1.2000 does not beat the baseline 1.1000 of always predicting the training window's class shares (gates.beat_baseline)",
      'pass: no champion yet',
    ]);
    const decision = decidePromotion(multiclass(1.0, 1.1), { beat_baseline: true, macro_f1: { min: 0.5 } }, 0.01, { version: 2, metrics: multiclass(1.005, 1.1) });
    expect(decision.reasons).toEqual([
      "pass: log loss 1.0000 beats the baseline 1.1000 of always predicting the training window's class shares",
      'FAIL: macro-F1 0.4000 < gates.macro_f1.min 0.5',
      'pass: log loss 1.0000 vs champion v2 1.0050 on the same data (-0.0050, tolerance 0.01)',
    ]);
  });
});
