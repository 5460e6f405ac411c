import { describeOutcome, stateCounts, type ChecksReport } from '../../contracts/checks';
import type { BackfillResult } from '../../workflows/backfill';
import type { BatchInferenceResult } from '../../workflows/batch-inference';
import { workersOf, type CostLedger } from '../../contracts/ledger';
import type { ModelMetrics } from '../../contracts/metrics';
import type { TrainPipelineResult } from '../../workflows/train-pipeline';
import { table } from './table';
import { trialsTable } from './tune-commands';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** A model's validation metrics in one line (`short`: the main ones only, for the champion beside it). */
export function metricsLine(m: ModelMetrics, short = false): string {
  const f = (x: number) => x.toFixed(4);
  if (!('task' in m)) {
    const main = `AUC ${f(m.auc)}  log loss ${f(m.logLoss)}  accuracy ${pct(m.accuracy)}`;
    return short ? main : `${main}  precision ${pct(m.precision)}  recall ${pct(m.recall)} at threshold ${m.threshold}  (${m.rows} rows, ${pct(m.positiveRate)} positive)`;
  }
  if (m.task === 'regression') {
    const main = `RMSE ${f(m.rmse)}  MAE ${f(m.mae)}  R² ${f(m.r2)}${m.mape === null ? '' : `  MAPE ${pct(m.mape)}`}`;
    return short ? main : `${main}  (${m.rows} rows; always predicting the training mean ${f(m.baselineMean)}: RMSE ${f(m.baselineRmse)})`;
  }
  const main = `log loss ${f(m.logLoss)}  accuracy ${pct(m.accuracy)}  macro-F1 ${f(m.macroF1)}`;
  return short ? main : `${main}  (${m.rows} rows, ${m.perClass.length} classes; always predicting the training class shares: log loss ${f(m.baselineLogLoss)})`;
}

/** What a run's data checks found: the state, and each check that warned (or waits without history) in words. */
export function checksLines(report: ChecksReport | { status: 'skipped' } | undefined): string[] {
  if (!report) return [];
  if (!('checks' in report)) return ['Checks: failed, skipped by an operator'];
  const noted = report.checks.filter((c) => c.status === 'warned' || c.status === 'no-history');
  return [`Checks: ${report.status} (${stateCounts(report)})`, ...noted.map((c) => `  ${c.status === 'warned' ? 'warn' : 'note'}: ${describeOutcome(c)}`)];
}

/** The day and feature that drifted most, in one line. */
function driftLine(pipeline: string, featureDrift: Record<string, Record<string, number>> | undefined): string[] {
  let top: { day: string; feature: string; psi: number } | undefined;
  for (const [day, features] of Object.entries(featureDrift ?? {})) {
    for (const [feature, psi] of Object.entries(features)) if (!top || psi > top.psi) top = { day, feature, psi };
  }
  return top ? [`Feature drift: largest PSI ${top.psi.toFixed(3)} (${top.feature} on ${top.day}); sluice drift ${pipeline} shows every feature and day`] : [];
}

/** A training run's result as a person reads it. */
export function formatTrainResult(result: TrainPipelineResult): string {
  const lines = [`Pipeline ${result.pipeline} — model version ${result.modelVersion} (${result.modelUri})`, `Validation: ${metricsLine(result.metrics)}`];
  if (result.champion) lines.push(`Champion v${result.champion.version} on the same data: ${metricsLine(result.champion.metrics, true)}`);
  lines.push(`Promotion (${result.decision.mode}): ${result.promoted ? 'PROMOTED' : 'NOT PROMOTED'} — ${result.decision.outcome}`);
  for (const reason of result.decision.reasons) lines.push(`  ${reason}`);
  lines.push(...checksLines(result.checks));
  const seconds = (s: TrainPipelineResult['steps'][number], key: 'wallSeconds' | 'cpuSeconds') => (s.cost && s.cost.wallSeconds > 0 ? s.cost[key].toFixed(2) : '');
  lines.push(
    table(
      [{ head: 'step' }, { head: 'status' }, { head: 'wall s', right: true }, { head: 'cpu s', right: true }, { head: 'detail' }],
      result.steps.map((s) => [s.name, s.status, seconds(s, 'wallSeconds'), seconds(s, 'cpuSeconds'), s.detail ?? '']),
    ),
  );
  if (result.tuning) lines.push(`Search: ${result.tuning.stopReason}; ${result.tuning.cpuSeconds.toFixed(1)} CPU s in trials (* the configuration trained)`, trialsTable(result.tuning));
  const t = result.totalCost;
  lines.push(`Cost: ${t.wallSeconds.toFixed(1)} s activity wall time, ${t.cpuSeconds.toFixed(1)} s CPU, peak RSS ${(t.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
  if (result.report) lines.push('error' in result.report ? `Report: not written (${result.report.error})` : `Report: ${result.report.file}`);
  return lines.join('\n');
}


/** A batch inference run's result as a person reads it. */
export function formatInferenceResult(r: BatchInferenceResult): string {
  return [
    ...(r.snapshot
      ? [
          `Scored ${r.rows} rows of ${r.pipeline} (the whole source, ${r.shards} shards) with model v${r.modelVersion}`,
          `Published to ${r.sink.type} sink ${r.sink.location}: partition day=${r.snapshot}, ${r.sink.rows} rows`,
        ]
      : [
          `Scored ${r.rows} rows of ${r.pipeline} (${r.from} .. ${r.to}, ${r.days} days, ${r.shards} shards) with model v${r.modelVersion}`,
          `Published to ${r.sink.type} sink ${r.sink.location}: ${r.sink.days} day partitions, ${r.sink.rows} rows`,
        ]),
    ...(r.skippedDays.length > 0 ? [`Skipped by an operator (not published): ${r.skippedDays.join(', ')}`] : []),
    ...(r.unseenCategories
      ? [
          `Categories training never saw (scored as missing): ${Object.entries(r.unseenCategories)
            .map(([feature, u]) => `${feature} ${count(u.rows)} rows on ${u.days} days`)
            .join(', ')}`,
        ]
      : []),
    ...(r.scoring ? [`Scored by: ${r.scoring.engines.join(', ')}`, ...(r.scoring.warnings ?? []).map((w) => `Warning: ${w}`)] : []),
    ...checksLines(r.checks),
    ...driftLine(r.pipeline, r.featureDrift),
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
const count = (n: number) => n.toLocaleString('en-US');

/** A run's cost ledger as a table: one row per step, the total, and the budget against it. */
export function formatLedger(ledger: CostLedger): string {
  const columns = [{ head: 'step' }, { head: 'start' }, ...['wall s', 'cpu s', 'peak MiB', 'rows in', 'rows out', 'MiB in', 'MiB out'].map((head) => ({ head, right: true }))];
  const row = (name: string, start: string, c: CostLedger['total']) => [name, start, c.wallSeconds.toFixed(2), c.cpuSeconds.toFixed(2), mib(c.peakRssBytes), count(c.rowsIn), count(c.rowsOut), mib(c.bytesIn), mib(c.bytesOut)];
  const lines = [
    `Cost ledger${ledger.pipeline ? ` of ${ledger.pipeline}` : ''}: ${count(ledger.rows)} source rows`,
    table(columns, [...ledger.entries.map((e) => row(e.step, e.startedAt.slice(11, 19), e.cost)), row('total', '', ledger.total)]),
  ];
  const workers = workersOf(ledger);
  if (workers.length > 0) lines.push(`Workers: ${workers.map((w) => `${w.worker} (${w.steps} step${w.steps === 1 ? '' : 's'})`).join(', ')}`);
  if (ledger.budgetLines.length > 0) lines.push(`Budget: ${ledger.budgetLines.join('; ')}`);
  if (ledger.stoppedBy) lines.push(`STOPPED BY THE BUDGET: ${ledger.stoppedBy}`);
  return lines.join('\n');
}
