import type { BackfillResult } from '../../workflows/backfill';
import type { BatchInferenceResult } from '../../workflows/batch-inference';
import type { CostLedger } from '../../contracts/ledger';
import type { TrainPipelineResult } from '../../workflows/train-pipeline';

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
  if (result.report) lines.push('error' in result.report ? `Report: not written (${result.report.error})` : `Report: ${result.report.file}`);
  return lines.join('\n');
}


/** A batch inference run's result as a person reads it. */
export function formatInferenceResult(r: BatchInferenceResult): string {
  return [
    `Scored ${r.rows} rows of ${r.pipeline} (${r.from} .. ${r.to}, ${r.days} days, ${r.shards} shards) with model v${r.modelVersion}`,
    `Published to ${r.sink.type} sink ${r.sink.location}: ${r.sink.days} day partitions, ${r.sink.rows} rows`,
    ...(r.skippedDays.length > 0 ? [`Skipped by an operator (not published): ${r.skippedDays.join(', ')}`] : []),
    `Cost: ${r.totalCost.cpuSeconds.toFixed(1)} s CPU, peak RSS ${(r.totalCost.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
    ...(r.report ? ['error' in r.report ? `Scores per day: not charted (${r.report.error})` : `Scores per day (rows, mean score, drift from training): ${r.report.file}`] : []),
  ].join('\n');
}

/** A backfill's result as a person reads it. */
export function formatBackfillResult(r: BackfillResult): string {
  return [
    `Published ${r.published.length} days (${r.rows} rows)${r.alreadyPublished.length > 0 ? `; ${r.alreadyPublished.length} days were already published (--reprocess replaces them)` : ''}`,
    ...r.failed.map((f) => `FAILED ${f.day}: ${f.error}`),
  ].join('\n');
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

/** A run's cost ledger as a table: one row per step, the total, and the budget against it. */
export function formatLedger(ledger: CostLedger): string {
  const header = `${'step'.padEnd(20)} ${'start'.padEnd(8)} ${'wall s'.padStart(8)} ${'cpu s'.padStart(8)} ${'peak MiB'.padStart(9)} ${'rows in'.padStart(11)} ${'rows out'.padStart(11)} ${'MiB in'.padStart(8)} ${'MiB out'.padStart(8)}`;
  const row = (name: string, start: string, c: CostLedger['total']) =>
    `${name.padEnd(20)} ${start.padEnd(8)} ${c.wallSeconds.toFixed(2).padStart(8)} ${c.cpuSeconds.toFixed(2).padStart(8)} ${mib(c.peakRssBytes).padStart(9)} ${c.rowsIn.toLocaleString('en-US').padStart(11)} ${c.rowsOut.toLocaleString('en-US').padStart(11)} ${mib(c.bytesIn).padStart(8)} ${mib(c.bytesOut).padStart(8)}`;
  const lines = [`Cost ledger${ledger.pipeline ? ` of ${ledger.pipeline}` : ''}: ${ledger.rows.toLocaleString('en-US')} source rows`, header];
  for (const e of ledger.entries) lines.push(row(e.step, e.startedAt.slice(11, 19), e.cost));
  lines.push(row('total', '', ledger.total));
  if (ledger.budgetLines.length > 0) lines.push(`Budget: ${ledger.budgetLines.join('; ')}`);
  if (ledger.stoppedBy) lines.push(`STOPPED BY THE BUDGET: ${ledger.stoppedBy}`);
  return lines.join('\n');
}
