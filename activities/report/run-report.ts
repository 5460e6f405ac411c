import fs from 'node:fs';
import path from 'node:path';
import { workersOf, type CostLedger } from '../../contracts/ledger';
import { safePathSegment as safe, type ArtifactStore } from '../storage/artifact-store';
import { metered } from '../cost/meter';
import { calibrationChart, classRecallChart, COLORS, confusionChart, importanceChart, residualsChart, metricsChart, paramsChart, predictedActualChart, renderSvg, rocChart, stepColor, timelineChart, trialsChart, type ChartSpec, type Series } from './charts';
import { higherIsBetter, outcomeLine, paramsLine, tuneMetricWords, type TuneSummary } from '../../contracts/tuning';
import type { ClassificationMetrics, Importance, ModelMetrics } from '../../contracts/metrics';
import { binaryMetrics, metricValue, taskOf } from '../../contracts/metric-values';
import { metricNamed, TASK_METRICS } from '../../contracts/tasks';
import type { SpecChange } from '../../contracts/spec';

export interface RunReportInput {
  pipeline: string;
  workflowId: string;
  runId: string;
  modelVersion: number;
  modelUri: string;
  metrics: ModelMetrics;
  champion?: { version: number; metrics: ModelMetrics };
  decision: { outcome: string; reasons: string[] };
  /** ROC curves from the evaluations on the validation rows; the champion's when it is another model. */
  roc: { candidate?: Array<[number, number]>; champion?: Array<[number, number]> };
  ledger: CostLedger;
  /** Fixed specs read on an operator's retry. */
  specChanges?: SpecChange[];
  /** The `tune:` search the model's settings came from. */
  tuning?: TuneSummary;
  /** The label's name, for the axes of a regression's charts (absent in runs recorded before). */
  label?: string;
}

const METRICS: Array<{ key: keyof ClassificationMetrics; name: string }> = [
  { key: 'auc', name: 'AUC' },
  { key: 'accuracy', name: 'accuracy' },
  { key: 'precision', name: 'precision' },
  { key: 'recall', name: 'recall' },
  { key: 'logLoss', name: 'log loss' },
];

/**
 * Writes a training run's report: `report.html` with its charts inline as SVG (metrics against the champion,
 * ROC curves of the candidate and the champion, calibration, the per-step timeline) and the cost table,
 * under `reports/<workflow id>/<run id>/` in the artifact store; each chart also as `<name>.svg`, and their
 * Vega-Lite specifications in `charts.vl.json` (open one in the Vega editor to restyle it).
 */
export async function writeRunReport(store: ArtifactStore, input: RunReportInput) {
  return metered(async (meter) => {
    const { uri, dir } = reportFolder(store, input.workflowId, input.runId);
    const specs = chartSpecs(input);
    const svgs: Record<string, string> = {};
    for (const [name, spec] of Object.entries(specs)) svgs[name] = await renderSvg(spec);
    for (const [name, svg] of Object.entries(svgs)) fs.writeFileSync(path.join(dir, `${name}.svg`), svg);
    fs.writeFileSync(path.join(dir, 'charts.vl.json'), JSON.stringify(specs, null, 2));
    const page = html(input, svgs);
    fs.writeFileSync(path.join(dir, 'report.html'), page);
    meter.bytesOut = Buffer.byteLength(page) + Object.values(svgs).reduce((sum, svg) => sum + Buffer.byteLength(svg), 0);
    await store.push(uri);
    return { uri: `${uri}/report.html`, file: path.join(dir, 'report.html'), charts: Object.keys(svgs).map((name) => `${name}.svg`) };
  });
}

/** A run's report folder, `reports/<workflow id>/<run id>/` in the artifact store (created), and its URI. */
export function reportFolder(store: ArtifactStore, workflowId: string, runId: string): { uri: string; dir: string } {
  const uri = `artifact:reports/${safe(workflowId)}/${safe(runId)}`;
  const dir = store.pathOf(uri);
  fs.mkdirSync(dir, { recursive: true });
  return { uri, dir };
}

/** The report's Vega-Lite specifications, by chart name. */
export function chartSpecs(input: RunReportInput): Record<'timeline', ChartSpec> & Partial<Record<'metrics' | 'roc' | 'calibration' | 'predicted' | 'residuals' | 'confusion' | 'recall' | 'importance' | 'trials' | 'params', ChartSpec>> {
  const start = Date.parse(input.ledger.entries[0]?.startedAt ?? new Date().toISOString());
  const common = {
    timeline: timelineChart(input.ledger.entries.map((e) => ({ step: e.step, start: (Date.parse(e.startedAt) - start) / 1000, end: (Date.parse(e.finishedAt) - start) / 1000 }))),
    ...(input.tuning ? tuningCharts(input.tuning) : {}),
    ...(input.metrics.importance?.features.length ? { importance: importanceChart(input.metrics.importance) } : {}),
  };
  const m = input.metrics;
  if (!('task' in m)) return { ...classifierCharts(input, m), ...common };
  if (m.task === 'regression') {
    const label = input.label ?? 'label';
    return { predicted: predictedActualChart(m.decileRows.map((rows, k) => ({ rows, ...m.decileMeans[k] })), label), ...(m.byDay?.length ? { residuals: residualsChart(m.byDay, label) } : {}), ...common };
  }
  return { confusion: confusionChart(m.perClass.map((c) => c.class), m.confusion), recall: classRecallChart(m.perClass), ...common };
}

/** A binary classifier's charts: its metrics against the champion's, the ROC curves and the calibration. */
function classifierCharts(input: RunReportInput, metrics: ClassificationMetrics): Record<'metrics' | 'roc' | 'calibration', ChartSpec> {
  const champion = input.champion && { version: input.champion.version, metrics: binaryMetrics(input.champion.metrics) };
  const candidate: Series = { name: `v${input.modelVersion} (this model)`, color: COLORS.candidate };
  const rival: Series | undefined = champion ? { name: `v${champion.version} (champion)`, color: COLORS.champion } : undefined;
  const series = rival ? [candidate, rival] : [candidate];
  const curves = [{ ...candidate, name: `${candidate.name}, AUC ${metrics.auc.toFixed(4)}`, points: input.roc.candidate ?? [] }];
  if (rival && input.roc.champion && champion) curves.push({ ...rival, name: `${rival.name}, AUC ${champion.metrics.auc.toFixed(4)}`, points: input.roc.champion });
  return {
    metrics: metricsChart(
      METRICS.map(({ key, name }) => ({ metric: name, values: [metrics, ...(champion ? [champion.metrics] : [])].map((m) => Math.min(1, m[key] as number)) })),
      series,
    ),
    roc: rocChart(curves),
    calibration: calibrationChart(metrics.calibration),
  };
}

function tuningCharts(tuning: TuneSummary): Record<'trials' | 'params', ChartSpec> {
  const metric = tuneMetricWords(tuning.metric);
  return { trials: trialsChart(tuning.trials, metric, higherIsBetter(tuning.metric)), params: paramsChart(tuning.trials, metric) };
}

/** The search's trials as a table, and its two charts. */
function tuningHtml(tuning: TuneSummary | undefined, figure: (name: string, caption: string) => string): string {
  if (!tuning) return '';
  const rows = tuning.trials
    .map((t) => `<tr><td>${t.number === tuning.best?.number ? '<strong>' : ''}${t.number}${t.number === tuning.best?.number ? ' (best)</strong>' : ''}</td><td>${escape(outcomeLine(tuning.metric, t))}</td><td>${escape(paramsLine(t.params))}</td><td>${t.bestIteration ?? ''}</td><td>${t.cost.wallSeconds.toFixed(1)}</td><td>${t.cost.cpuSeconds.toFixed(1)}</td></tr>`)
    .join('\n');
  return `<h2>Hyper-parameter search</h2>
<p>${escape(tuning.stopReason)}; ${tuning.cpuSeconds.toFixed(1)} CPU seconds in trials. The model was trained with the best trial's settings.</p>
<table>
<tr><th>trial</th><th>outcome (holdout days)</th><th>parameters</th><th>rounds</th><th>wall s</th><th>CPU s</th></tr>
${rows}
</table>
${figure('trials', 'Points: each complete trial; line: the best so far.')}
${figure('params', 'Each searched setting against the holdout metric, complete trials.')}`;
}

/** The features' importance: the chart, and the words to read it by. */
function importanceHtml(importance: Importance | undefined, figure: (name: string, caption: string) => string): string {
  if (!importance) return '';
  if (importance.skipped) return `<h2>Feature importance</h2>\n<p>Permutation importance ${escape(importance.skipped)}.</p>`;
  const own = importance.measure ? `; right: the trainer's own measure (${importance.measure === 'gain' ? 'the loss reduction of the splits on the feature' : 'the |standardized coefficient|'}), as shares` : '';
  return `<h2>Feature importance</h2>\n${figure('importance', `Left: how much ${metricNamed(importance.metric)?.words ?? importance.metric} worsens when the feature's values are shuffled among ${importance.rows.toLocaleString('en-US')} sampled validation rows (mean of ${importance.repeats}, the line its spread; seed ${importance.seed})${own}.`)}`;
}

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

const swatch = (color: string) => `<span class="swatch" style="background: ${color}"></span>`;

/** The spec fixes an operator made while the run waited, old and new spec hash each. */
function specChangesHtml(changes: SpecChange[] | undefined): string {
  if (!changes?.length) return '';
  const items = changes.map((c) => `<li>${escape(c.at)}: retry of ${escape(c.step)} read a fixed spec, ${escape(c.from.slice(0, 12))} → ${escape(c.to.slice(0, 12))}</li>`);
  return `<p>The spec was fixed during this run; it went on from the first step whose inputs changed:</p>\n<ul>${items.join('')}</ul>`;
}

function html(input: RunReportInput, svgs: Record<string, string>): string {
  const figure = (name: string, caption: string) => `<figure>${svgs[name]}<figcaption>${caption}</figcaption></figure>`;
  const { metrics, champion, ledger } = input;
  const binary = !('task' in metrics);
  const values = (m: ModelMetrics) =>
    binary ? METRICS.map(({ key, name }) => ({ name, value: binaryMetrics(m)[key] as number })) : TASK_METRICS[taskOf(m)].map((info) => ({ name: info.words, value: metricValue(m, info.name) }));
  const theirs = champion ? values(champion.metrics) : undefined;
  const metricRows = values(metrics)
    .map(({ name, value }, i) => {
      const other = theirs?.[i]?.value;
      const diff = value === undefined || other === undefined ? '' : `${value - other >= 0 ? '+' : ''}${(value - other).toFixed(4)}`;
      return `<tr><td>${name}</td><td>${value === undefined ? '–' : value.toFixed(4)}</td><td>${other === undefined ? '–' : other.toFixed(4)}</td><td>${diff}</td></tr>`;
    })
    .join('\n');
  const about =
    'task' in metrics
      ? metrics.task === 'regression'
        ? `${metrics.rows.toLocaleString('en-US')} validation rows, mean label ${metrics.labelMean.toFixed(4)}; always predicting the training mean ${metrics.baselineMean.toFixed(4)} has RMSE ${metrics.baselineRmse.toFixed(4)}`
        : `${metrics.rows.toLocaleString('en-US')} validation rows, ${metrics.perClass.length} classes; always predicting the training window's class shares has log loss ${metrics.baselineLogLoss.toFixed(4)}`
      : `${metrics.rows.toLocaleString('en-US')} validation rows, ${(100 * metrics.positiveRate).toFixed(1)}% positive`;
  const classifier = binary
    ? `${figure('metrics', `AUC, accuracy, precision, recall and log loss: ${swatch(COLORS.candidate)}this model${champion ? `, ${swatch(COLORS.champion)}the champion` : ''}.`)}

<h2>ROC and calibration</h2>
${figure('roc', 'Dashed: a model that guesses.')}
${figure('calibration', 'Per bin of predicted probability; bars: rows in the bin (right axis); dashed: perfect calibration.')}`
    : 'task' in metrics && metrics.task === 'regression'
      ? `<h2>Predicted against actual</h2>\n${figure('predicted', 'Per tenth of the validation predictions (its deciles): the mean prediction against the mean label; dashed: predicted = actual.')}${metrics.byDay?.length ? `\n${figure('residuals', 'Bars: the mean residual of each validation day (above 0: the model predicted too much); line: the day\'s RMSE.')}` : ''}`
      : `<h2>Classes</h2>\n${figure('confusion', 'Rows by actual and predicted class (the most probable); shade: the share of the actual class.')}\n${figure('recall', 'Recall: the share of a class found; precision: the share of its predictions that were right.')}`;
  const costRows = ledger.entries
    .map(
      (e, i) =>
        `<tr><td>${swatch(stepColor(i))}${escape(e.step)}</td><td>${e.startedAt.slice(11, 19)}</td><td>${e.cost.wallSeconds.toFixed(2)}</td><td>${e.cost.cpuSeconds.toFixed(2)}</td><td>${(e.cost.peakRssBytes / 2 ** 20).toFixed(0)}</td><td>${e.cost.rowsIn.toLocaleString('en-US')}</td><td>${e.cost.rowsOut.toLocaleString('en-US')}</td><td>${(e.cost.bytesOut / 2 ** 20).toFixed(1)}</td></tr>`,
    )
    .join('\n');
  const t = ledger.total;
  const vs = champion ? `champion v${champion.version}` : 'no champion';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escape(input.pipeline)} v${input.modelVersion} — Sluice run report</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1040px; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.8em; }
table { border-collapse: collapse; } td, th { padding: 0.25em 0.8em; border-bottom: 1px solid #ddd; text-align: right; }
td:first-child, th:first-child { text-align: left; }
figure { display: inline-block; margin: 0.5em 1em 0.5em 0; vertical-align: top; } figcaption { font-size: 0.9em; color: #555; max-width: 520px; }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.4em; vertical-align: baseline; }
.muted { color: #666; }
</style>
</head>
<body>
<h1>${escape(input.pipeline)} — model v${input.modelVersion}</h1>
<p class="muted">Run ${escape(input.workflowId)} / ${escape(input.runId)} · ${escape(ledger.entries[0]?.startedAt ?? '')} · ${about} · model ${escape(input.modelUri)}</p>
<p><strong>${escape(input.decision.outcome)}</strong></p>
<ul>${input.decision.reasons.map((r) => `<li>${escape(r)}</li>`).join('')}</ul>
${specChangesHtml(input.specChanges)}
${tuningHtml(input.tuning, figure)}

<h2>Metrics against the ${vs} (same validation rows${binary ? `, threshold ${binaryMetrics(metrics).threshold}` : ''})</h2>
<table>
<tr><th>metric</th><th>${swatch(COLORS.candidate)}v${input.modelVersion}</th><th>${champion ? `${swatch(COLORS.champion)}v${champion.version}` : 'champion'}</th><th>difference</th></tr>
${metricRows}
</table>
${classifier}
${importanceHtml(metrics.importance, figure)}

<h2>Cost</h2>
<table>
<tr><th>step</th><th>start (UTC)</th><th>wall s</th><th>CPU s</th><th>peak MiB</th><th>rows in</th><th>rows out</th><th>MiB out</th></tr>
${costRows}
<tr><th>total</th><th></th><th>${t.wallSeconds.toFixed(2)}</th><th>${t.cpuSeconds.toFixed(2)}</th><th>${(t.peakRssBytes / 2 ** 20).toFixed(0)}</th><th>${t.rowsIn.toLocaleString('en-US')}</th><th>${t.rowsOut.toLocaleString('en-US')}</th><th>${(t.bytesOut / 2 ** 20).toFixed(1)}</th></tr>
</table>
${workersOf(ledger).length > 0 ? `<p>Workers: ${workersOf(ledger).map((w) => `${escape(w.worker)} (${w.steps} step${w.steps === 1 ? '' : 's'})`).join(' · ')}</p>` : ''}
${ledger.budgetLines.length > 0 ? `<p>Budget: ${ledger.budgetLines.map(escape).join(' · ')}</p>` : '<p class="muted">No budget set (spec <code>budget:</code>).</p>'}
${figure('timeline', 'Each step from its start to its end, in the order and colours of the table.')}
</body>
</html>
`;
}
