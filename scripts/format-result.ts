import type { TrainPipelineResult, TrainProgress } from '../workflows/train-pipeline';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** A training run's result as a person reads it. */
export function formatTrainResult(result: TrainPipelineResult): string {
  const m = result.metrics;
  const lines = [
    `Pipeline ${result.pipeline} — model version ${result.modelVersion} (${result.modelUri})`,
    `Validation: AUC ${m.auc.toFixed(4)}  log loss ${m.logLoss.toFixed(4)}  accuracy ${pct(m.accuracy)}  precision ${pct(m.precision)}  recall ${pct(m.recall)} at threshold ${m.threshold}  (${m.rows} rows, ${pct(m.positiveRate)} positive)`,
  ];
  if (result.champion) {
    const c = result.champion.metrics;
    lines.push(`Champion v${result.champion.version} on the same data: AUC ${c.auc.toFixed(4)}  log loss ${c.logLoss.toFixed(4)}  accuracy ${pct(c.accuracy)}`);
  }
  lines.push(`Promotion (${result.decision.mode}): ${result.promoted ? 'PROMOTED' : 'NOT PROMOTED'} — ${result.decision.outcome}`);
  for (const reason of result.decision.reasons) lines.push(`  ${reason}`);
  lines.push('Steps:');
  for (const s of result.steps) {
    const cost = s.cost && s.cost.wallSeconds > 0 ? ` [${s.cost.wallSeconds.toFixed(2)} s wall, ${s.cost.cpuSeconds.toFixed(2)} s CPU]` : '';
    lines.push(`  ${s.name.padEnd(18)} ${s.status.padEnd(8)} ${s.detail ?? ''}${cost}`);
  }
  const t = result.totalCost;
  lines.push(`Cost: ${t.wallSeconds.toFixed(1)} s activity wall time, ${t.cpuSeconds.toFixed(1)} s CPU, peak RSS ${(t.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
  return lines.join('\n');
}

/** One line per step that changed since `previous`. */
export function progressChanges(previous: TrainProgress | undefined, current: TrainProgress): string[] {
  const out: string[] = [];
  for (const step of current.steps) {
    const before = previous?.steps.find((s) => s.name === step.name);
    if (before?.status !== step.status && step.status !== 'pending') out.push(`  ${step.name}: ${step.status}${step.detail ? ` — ${step.detail}` : ''}`);
  }
  if (current.awaiting && current.awaiting !== previous?.awaiting) out.push(`  waiting: ${current.awaiting}`);
  return out;
}
