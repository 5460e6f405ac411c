import { metricValue, taskOf } from './metric-values';
import type { ModelMetrics } from './metrics';
import { metricOf, PRIMARY_METRIC, type MetricGate } from './tasks';

export interface PromotionGates {
  min_auc?: number;
  max_log_loss?: number;
  min_accuracy?: number;
  /** The candidate must beat the trivial model on validation (absent in specs recorded before the gate: off). */
  beat_baseline?: boolean;
  /** Bounds on a metric by its name (`auc: {min: 0.6}`, `precision: {min: 0.3}`). */
  [metric: string]: MetricGate | number | boolean | undefined;
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
 * beat the trivial model (a classifier: `baseline`, always predicting the training rate; a regression: always
 * predicting the training mean; a multiclass classifier: always predicting the training class shares) — and the candidate's `metric` (`promotion.metric`, else the task's primary
 * metric) may be worse than the champion's (scored on the same data) by at most `tolerance`.
 */
export function decidePromotion(
  candidate: ModelMetrics,
  gates: PromotionGates,
  tolerance: number,
  champion?: { version: number; metrics: ModelMetrics },
  baseline?: Baseline,
  metric?: string,
): PromotionDecision {
  const task = taskOf(candidate);
  const reasons: string[] = [];
  let eligible = true;
  const check = (ok: boolean, text: string) => {
    eligible &&= ok;
    reasons.push(`${ok ? 'pass' : 'FAIL'}: ${text}`);
  };
  if (gates.beat_baseline === true && 'task' in candidate && candidate.task === 'regression') {
    const beats = candidate.rmse < candidate.baselineRmse;
    const trivial = `the baseline ${f(candidate.baselineRmse)} of always predicting the training mean ${f(candidate.baselineMean)}`;
    check(beats, beats ? `RMSE ${f(candidate.rmse)} beats ${trivial}` : `RMSE ${f(candidate.rmse)} does not beat ${trivial} (gates.beat_baseline)`);
  } else if (gates.beat_baseline === true && 'task' in candidate && candidate.task === 'multiclass') {
    const beats = candidate.logLoss < candidate.baselineLogLoss;
    const trivial = `the baseline ${f(candidate.baselineLogLoss)} of always predicting the training window's class shares`;
    check(beats, beats ? `log loss ${f(candidate.logLoss)} beats ${trivial}` : `log loss ${f(candidate.logLoss)} does not beat ${trivial} (gates.beat_baseline)`);
  } else if (gates.beat_baseline === true && baseline !== undefined && !('task' in candidate)) {
    const beats = candidate.logLoss < baseline.logLoss;
    const trivial = `the baseline ${f(baseline.logLoss)} of always predicting the training rate ${(baseline.trainingRate * 100).toFixed(1)}%`;
    check(beats, beats ? `log loss ${f(candidate.logLoss)} beats ${trivial}` : `log loss ${f(candidate.logLoss)} does not beat ${trivial} (gates.beat_baseline)`);
  }
  if (!('task' in candidate)) {
    if (gates.min_auc !== undefined) check(candidate.auc >= gates.min_auc, `AUC ${f(candidate.auc)} ${candidate.auc >= gates.min_auc ? '>=' : '<'} gate ${gates.min_auc}`);
    if (gates.max_log_loss !== undefined) {
      check(candidate.logLoss <= gates.max_log_loss, `log loss ${f(candidate.logLoss)} ${candidate.logLoss <= gates.max_log_loss ? '<=' : '>'} gate ${gates.max_log_loss}`);
    }
    if (gates.min_accuracy !== undefined) {
      check(candidate.accuracy >= gates.min_accuracy, `accuracy ${f(candidate.accuracy)} ${candidate.accuracy >= gates.min_accuracy ? '>=' : '<'} gate ${gates.min_accuracy}`);
    }
  }
  for (const [name, gate] of Object.entries(gates)) {
    const info = metricOf(task, name);
    if (!info || typeof gate !== 'object') continue;
    const value = metricValue(candidate, info.name);
    if (value === undefined) {
      check(false, `${info.words} is undefined on these rows (gates.${name})`);
      continue;
    }
    if (gate.min !== undefined) check(value >= gate.min, `${info.words} ${f(value)} ${value >= gate.min ? '>=' : '<'} gates.${name}.min ${gate.min}`);
    if (gate.max !== undefined) check(value <= gate.max, `${info.words} ${f(value)} ${value <= gate.max ? '<=' : '>'} gates.${name}.max ${gate.max}`);
  }
  if (champion) {
    const info = metricOf(task, metric ?? PRIMARY_METRIC[task]) ?? { name: PRIMARY_METRIC[task], words: PRIMARY_METRIC[task], better: 'higher' };
    const ours = metricValue(candidate, info.name) ?? NaN;
    const theirs = metricValue(champion.metrics, info.name) ?? NaN;
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
