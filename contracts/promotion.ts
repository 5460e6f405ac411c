import type { ClassificationMetrics } from './metrics';
import { metricOf, type MetricGate } from './tasks';

export interface PromotionGates {
  min_auc?: number;
  max_log_loss?: number;
  min_accuracy?: number;
  /** The candidate must beat the trivial model on validation (absent in specs recorded before the gate: off). */
  beat_baseline?: boolean;
  /** Bounds on a metric by its name (`auc: {min: 0.6}`, `precision: {min: 0.3}`). */
  [metric: string]: MetricGate | number | boolean | undefined;
}

/** A binary classifier's metric by the name specs give it. */
export function binaryMetric(metrics: ClassificationMetrics, name: string): number {
  const values: Record<string, number> = { auc: metrics.auc, log_loss: metrics.logLoss, accuracy: metrics.accuracy, precision: metrics.precision, recall: metrics.recall };
  const value = values[name];
  if (value === undefined) throw new Error(`binaryMetric: a binary classifier has no metric ${name}`);
  return value;
}

/**
 * The trivial model a candidate must beat: it predicts the training window's positive rate for every row.
 * Its validation log loss follows from that rate and the validation window's own.
 */
export interface Baseline {
  /** Share of positive labels in the training window. */
  trainingRate: number;
  logLoss: number;
}

/** The validation log loss of always predicting `trainingRate`, where `validationRate` of the rows are positive. */
export function baselineOf(trainingRate: number, validationRate: number): Baseline {
  const p = Math.min(Math.max(trainingRate, 1e-7), 1 - 1e-7);
  return { trainingRate, logLoss: -(validationRate * Math.log(p) + (1 - validationRate) * Math.log(1 - p)) };
}

export interface PromotionDecision {
  /** True when the candidate passes every gate and is not worse than the champion beyond the tolerance. */
  eligible: boolean;
  /** Each check, passed or failed, in words. */
  reasons: string[];
}

const f = (x: number) => x.toFixed(4);

/**
 * Decides whether a candidate may replace the champion: every gate of the spec must pass — by default it must
 * beat the trivial model (`baseline`) — and the candidate's `metric` (`promotion.metric`: AUC unless the spec
 * says otherwise) may be worse than the champion's (scored on the same data) by at most `tolerance`.
 */
export function decidePromotion(
  candidate: ClassificationMetrics,
  gates: PromotionGates,
  tolerance: number,
  champion?: { version: number; metrics: ClassificationMetrics },
  baseline?: Baseline,
  metric = 'auc',
): PromotionDecision {
  const reasons: string[] = [];
  let eligible = true;
  const check = (ok: boolean, text: string) => {
    eligible &&= ok;
    reasons.push(`${ok ? 'pass' : 'FAIL'}: ${text}`);
  };
  if (gates.beat_baseline === true && baseline !== undefined) {
    const beats = candidate.logLoss < baseline.logLoss;
    const trivial = `the baseline ${f(baseline.logLoss)} of always predicting the training rate ${(baseline.trainingRate * 100).toFixed(1)}%`;
    check(beats, beats ? `log loss ${f(candidate.logLoss)} beats ${trivial}` : `log loss ${f(candidate.logLoss)} does not beat ${trivial} (gates.beat_baseline)`);
  }
  if (gates.min_auc !== undefined) check(candidate.auc >= gates.min_auc, `AUC ${f(candidate.auc)} ${candidate.auc >= gates.min_auc ? '>=' : '<'} gate ${gates.min_auc}`);
  if (gates.max_log_loss !== undefined) {
    check(candidate.logLoss <= gates.max_log_loss, `log loss ${f(candidate.logLoss)} ${candidate.logLoss <= gates.max_log_loss ? '<=' : '>'} gate ${gates.max_log_loss}`);
  }
  if (gates.min_accuracy !== undefined) {
    check(candidate.accuracy >= gates.min_accuracy, `accuracy ${f(candidate.accuracy)} ${candidate.accuracy >= gates.min_accuracy ? '>=' : '<'} gate ${gates.min_accuracy}`);
  }
  for (const [name, gate] of Object.entries(gates)) {
    const info = metricOf('binary', name);
    if (!info || typeof gate !== 'object') continue;
    const value = binaryMetric(candidate, name);
    if (gate.min !== undefined) check(value >= gate.min, `${info.words} ${f(value)} ${value >= gate.min ? '>=' : '<'} gates.${name}.min ${gate.min}`);
    if (gate.max !== undefined) check(value <= gate.max, `${info.words} ${f(value)} ${value <= gate.max ? '<=' : '>'} gates.${name}.max ${gate.max}`);
  }
  if (champion) {
    const info = metricOf('binary', metric) ?? { name: metric, words: metric, better: 'higher' };
    const ours = binaryMetric(candidate, metric);
    const theirs = binaryMetric(champion.metrics, metric);
    const delta = ours - theirs;
    // Worse by at most `tolerance`, in the metric's own units and direction.
    check(
      (info.better === 'higher' ? delta : -delta) >= -tolerance,
      `${info.words} ${f(ours)} vs champion v${champion.version} ${f(theirs)} on the same data (${delta >= 0 ? '+' : ''}${f(delta)}, tolerance ${tolerance})`,
    );
  } else {
    reasons.push('pass: no champion yet');
  }
  return { eligible, reasons };
}
