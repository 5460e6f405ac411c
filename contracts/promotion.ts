import type { ClassificationMetrics } from '../activities/metrics';

export interface PromotionGates {
  min_auc?: number;
  max_log_loss?: number;
  min_accuracy?: number;
}

export interface PromotionDecision {
  /** True when the candidate passes every gate and is not worse than the champion beyond the tolerance. */
  eligible: boolean;
  /** Each check, passed or failed, in words. */
  reasons: string[];
}

const f = (x: number) => x.toFixed(4);

/**
 * Decides whether a candidate may replace the champion: every gate of the spec must pass, and the
 * candidate's AUC may be below the champion's (scored on the same data) by at most `tolerance`.
 */
export function decidePromotion(
  candidate: ClassificationMetrics,
  gates: PromotionGates,
  tolerance: number,
  champion?: { version: number; metrics: ClassificationMetrics },
): PromotionDecision {
  const reasons: string[] = [];
  let eligible = true;
  const check = (ok: boolean, text: string) => {
    eligible &&= ok;
    reasons.push(`${ok ? 'pass' : 'FAIL'}: ${text}`);
  };
  if (gates.min_auc !== undefined) check(candidate.auc >= gates.min_auc, `AUC ${f(candidate.auc)} ${candidate.auc >= gates.min_auc ? '>=' : '<'} gate ${gates.min_auc}`);
  if (gates.max_log_loss !== undefined) {
    check(candidate.logLoss <= gates.max_log_loss, `log loss ${f(candidate.logLoss)} ${candidate.logLoss <= gates.max_log_loss ? '<=' : '>'} gate ${gates.max_log_loss}`);
  }
  if (gates.min_accuracy !== undefined) {
    check(candidate.accuracy >= gates.min_accuracy, `accuracy ${f(candidate.accuracy)} ${candidate.accuracy >= gates.min_accuracy ? '>=' : '<'} gate ${gates.min_accuracy}`);
  }
  if (champion) {
    const delta = candidate.auc - champion.metrics.auc;
    check(
      delta >= -tolerance,
      `AUC ${f(candidate.auc)} vs champion v${champion.version} ${f(champion.metrics.auc)} on the same data (${delta >= 0 ? '+' : ''}${f(delta)}, tolerance ${tolerance})`,
    );
  } else {
    reasons.push('pass: no champion yet');
  }
  return { eligible, reasons };
}
