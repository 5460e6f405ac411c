import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { CalibrationBin, Importance } from '../../contracts/metrics';
import { metricNamed } from '../../contracts/tasks';


/**
 * The run report's charts as Vega-Lite specifications, rendered on the server by `vega` to SVG (no browser,
 * no native canvas). Each has a title, axis titles with units, and a legend where it shows more than one
 * series.
 */
export type ChartSpec = TopLevelSpec & { title: string };

/** Tableau 10, Vega-Lite's default: this model blue, the champion orange, steps in order. */
export const PALETTE = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];
export const COLORS = { candidate: PALETTE[0], champion: PALETTE[1], reference: '#999999' };

const SIZE = { width: 420, height: 300 };
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';
const unit = { type: 'quantitative' as const, scale: { domain: [0, 1] } };

/** A model's name in legends: "v3 (this model)", "v2 (champion)". */
export interface Series {
  name: string;
  color: string;
}

/** Grouped bars, one group per metric: this model, and the champion beside it when there is one. */
export function metricsChart(metrics: Array<{ metric: string; values: number[] }>, series: Series[]): ChartSpec {
  const values = metrics.flatMap(({ metric, values: v }) => series.map((s, i) => ({ metric, model: s.name, value: v[i] })));
  return {
    $schema: SCHEMA,
    title: 'Validation metrics against the champion',
    ...SIZE,
    data: { values },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      x: { field: 'metric', type: 'nominal', title: 'Metric', sort: metrics.map((m) => m.metric), axis: { labelAngle: 0 } },
      xOffset: { field: 'model', type: 'nominal', sort: series.map((s) => s.name) },
      y: { field: 'value', ...unit, title: 'Value (0–1; log loss: lower is better)' },
      color: { field: 'model', type: 'nominal', title: 'Model', scale: { domain: series.map((s) => s.name), range: series.map((s) => s.color) }, legend: { labelLimit: 0, orient: 'bottom' } },
    },
  };
}

/** ROC curves (false positive rate → true positive rate) of this model and, when given, the champion; dashed: chance. */
export function rocChart(curves: Array<Series & { points: Array<[number, number]> }>): ChartSpec {
  const values = curves.flatMap((c) => c.points.map(([fpr, tpr], order) => ({ model: c.name, fpr, tpr, order })));
  return {
    $schema: SCHEMA,
    title: 'ROC curve on the validation window',
    ...SIZE,
    layer: [
      { data: { values: [{ a: 0, b: 0 }, { a: 1, b: 1 }] }, mark: { type: 'line', strokeDash: [6, 4], color: COLORS.reference }, encoding: { x: { field: 'a', ...unit }, y: { field: 'b', ...unit } } },
      {
        data: { values },
        mark: { type: 'line', strokeWidth: 2.5 },
        encoding: {
          x: { field: 'fpr', ...unit, title: 'False positive rate (share of negatives flagged)' },
          y: { field: 'tpr', ...unit, title: 'True positive rate (share of positives found)' },
          order: { field: 'order', type: 'quantitative' },
          color: { field: 'model', type: 'nominal', title: 'Model', scale: { domain: curves.map((c) => c.name), range: curves.map((c) => c.color) }, legend: { labelLimit: 0, orient: 'bottom', direction: 'vertical' } },
        },
      },
    ],
  };
}

/** Observed positive rate against mean predicted probability per bin; bars: rows per bin (right axis); dashed: perfect calibration. */
export function calibrationChart(bins: CalibrationBin[]): ChartSpec {
  const values = bins.map((b) => ({ lower: b.lower, upper: b.upper, rows: b.count, predicted: b.count > 0 ? b.meanPredicted : null, observed: b.count > 0 ? b.observedRate : null }));
  return {
    $schema: SCHEMA,
    title: 'Calibration on the validation window',
    ...SIZE,
    data: { values },
    layer: [
      {
        mark: { type: 'bar', color: '#c6d6ea' },
        encoding: { x: { field: 'lower', ...unit }, x2: { field: 'upper' }, y: { field: 'rows', type: 'quantitative', title: 'Rows in bin', axis: { orient: 'right' } }, y2: { datum: 0 } },
      },
      {
        layer: [
          { data: { values: [{ a: 0, b: 0 }, { a: 1, b: 1 }] }, mark: { type: 'line', strokeDash: [6, 4], color: COLORS.reference }, encoding: { x: { field: 'a', ...unit }, y: { field: 'b', ...unit } } },
          {
            transform: [{ filter: 'datum.predicted !== null' }],
            mark: { type: 'line', point: true, color: COLORS.candidate },
            encoding: { x: { field: 'predicted', ...unit, title: 'Mean predicted probability' }, y: { field: 'observed', ...unit, title: 'Observed positive rate' } },
          },
        ],
      },
    ],
    resolve: { scale: { y: 'independent' } },
  };
}

/**
 * A regression's predicted against actual on the validation window: per bin of the validation predictions (its
 * deciles), the mean prediction against the mean label, sized by the bin's rows, beside the diagonal.
 */
export function predictedActualChart(bins: Array<{ rows: number; predicted: number; actual: number }>, label: string): ChartSpec {
  const values = bins.filter((b) => b.rows > 0);
  const all = values.flatMap((b) => [b.predicted, b.actual]);
  const [low, high] = [Math.min(...all), Math.max(...all)];
  const axis = (title: string) => ({ type: 'quantitative' as const, title, scale: { zero: false } });
  return {
    $schema: SCHEMA,
    title: 'Predicted against actual on the validation window',
    ...SIZE,
    layer: [
      { data: { values: [{ a: low, b: low }, { a: high, b: high }] }, mark: { type: 'line', strokeDash: [6, 4], color: COLORS.reference }, encoding: { x: { field: 'a', ...axis('') }, y: { field: 'b', ...axis('') } } },
      {
        data: { values },
        mark: { type: 'line', point: true, color: COLORS.candidate, tooltip: true },
        encoding: { x: { field: 'predicted', ...axis(`Mean prediction (${label})`) }, y: { field: 'actual', ...axis(`Mean actual ${label}`) }, size: { field: 'rows', type: 'quantitative', title: 'Rows' } },
      },
    ],
  };
}

/**
 * A multiclass model's confusion matrix on the validation window: a cell per actual and predicted class, shaded by
 * the share of the actual class's rows (each row sums to 1), labelled with its rows.
 */
export function confusionChart(classes: readonly string[], confusion: number[][]): ChartSpec {
  const values = confusion.flatMap((row, a) => {
    const total = row.reduce((s, n) => s + n, 0);
    return row.map((rows, p) => ({ actual: classes[a], predicted: classes[p], rows, share: total > 0 ? rows / total : 0 }));
  });
  const order = [...classes];
  const encoding = { x: { field: 'predicted', type: 'nominal' as const, sort: order, title: 'Predicted class' }, y: { field: 'actual', type: 'nominal' as const, sort: order, title: 'Actual class' } };
  return {
    $schema: SCHEMA,
    title: 'Confusion matrix on the validation window',
    width: 40 * classes.length + 120,
    height: 40 * classes.length + 40,
    data: { values },
    encoding,
    layer: [
      { mark: { type: 'rect', tooltip: true }, encoding: { color: { field: 'share', type: 'quantitative', title: "Share of the actual class's rows", scale: { domain: [0, 1], scheme: 'blues' } } } },
      { mark: { type: 'text', fontSize: 11 }, encoding: { text: { field: 'rows', type: 'quantitative' }, color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: 'black' } } },
    ],
  };
}

/** A multiclass model's recall and precision per class on the validation window, each class's rows in its tooltip. */
export function classRecallChart(perClass: ReadonlyArray<{ class: string; recall: number; precision: number; support: number }>): ChartSpec {
  const values = perClass.flatMap((c) => [
    { class: c.class, measure: 'recall', value: c.recall, rows: c.support },
    { class: c.class, measure: 'precision', value: c.precision, rows: c.support },
  ]);
  return {
    $schema: SCHEMA,
    title: 'Recall and precision per class on the validation window',
    ...SIZE,
    data: { values },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: 'class', type: 'nominal', sort: perClass.map((c) => c.class), title: 'Class' },
      yOffset: { field: 'measure', type: 'nominal' },
      x: { field: 'value', type: 'quantitative', scale: { domain: [0, 1] }, title: 'Share' },
      color: { field: 'measure', type: 'nominal', scale: { domain: ['recall', 'precision'], range: [COLORS.candidate, COLORS.champion] }, title: '' },
    },
  };
}

/**
 * A regression's validation residuals by day: the mean residual (prediction − label; above 0: it over-predicted)
 * as bars, and the day's RMSE as a line on its own axis.
 */
export function residualsChart(days: ReadonlyArray<{ day: string; rows: number; meanResidual: number; rmse: number }>, label: string): ChartSpec {
  const x = { field: 'day', type: 'temporal' as const, timeUnit: 'utcyearmonthdate' as const, title: 'Validation day (UTC)' };
  return {
    $schema: SCHEMA,
    title: 'Residuals by day on the validation window',
    ...SIZE,
    data: { values: days },
    layer: [
      { mark: { type: 'bar', color: COLORS.candidate, tooltip: true }, encoding: { x, y: { field: 'meanResidual', type: 'quantitative', title: `Mean residual, predicted − actual (${label})` } } },
      { mark: { type: 'line', point: true, color: COLORS.champion, tooltip: true }, encoding: { x, y: { field: 'rmse', type: 'quantitative', title: `RMSE of the day (${label})` } } },
    ],
    resolve: { scale: { y: 'independent' } },
  };
}

/** Features the importance chart shows at most (the most important). */
export const IMPORTANCE_SHOWN = 20;

/**
 * The features' permutation importance on the validation window (the drop of `metric` when a feature is shuffled,
 * with its spread over the repeats), most important first, beside the trainer's own measure as shares.
 */
export function importanceChart(importance: Importance): ChartSpec {
  const values = importance.features.slice(0, IMPORTANCE_SHOWN).map((f) => ({ ...f, low: f.drop - f.spread, high: f.drop + f.spread }));
  const order = values.map((v) => v.feature);
  const y = { field: 'feature', type: 'nominal' as const, sort: order, title: null };
  const height = 18 * values.length + 20;
  const drop = {
    width: 300,
    height,
    layer: [
      { mark: { type: 'bar' as const, color: COLORS.candidate, tooltip: true }, encoding: { y, x: { field: 'drop', type: 'quantitative' as const, title: `Drop of ${metricNamed(importance.metric)?.words ?? importance.metric} when shuffled` } } },
      { mark: { type: 'rule' as const, color: COLORS.reference }, encoding: { y, x: { field: 'low', type: 'quantitative' as const }, x2: { field: 'high' } } },
    ],
  };
  const own = importance.measure
    ? [{ width: 200, height, mark: { type: 'bar' as const, color: COLORS.champion, tooltip: true }, encoding: { y: { ...y, axis: null }, x: { field: 'own', type: 'quantitative' as const, title: `Share of the trainer's ${importance.measure}`, axis: { format: '%' } } } }]
    : [];
  return {
    $schema: SCHEMA,
    title: `Feature importance on ${importance.rows.toLocaleString('en-US')} validation rows (${importance.repeats} shuffles each)`,
    data: { values },
    hconcat: [drop, ...own],
  };
}

/** One bar per step from its start to its end, in seconds since the run started, named on the y axis. */
export function timelineChart(steps: Array<{ step: string; start: number; end: number }>): ChartSpec {
  return {
    $schema: SCHEMA,
    title: 'Steps over time',
    width: SIZE.width,
    height: Math.max(120, 26 * steps.length),
    data: { values: steps.map((s, order) => ({ ...s, order, end: Math.max(s.end, s.start + 0.05) })) },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      x: { field: 'start', type: 'quantitative', title: 'Seconds since the run started (s)' },
      x2: { field: 'end' },
      y: { field: 'step', type: 'nominal', title: 'Step', sort: { field: 'order' } },
      color: { field: 'step', type: 'nominal', legend: null, scale: { domain: steps.map((s) => s.step), range: steps.map((_, i) => stepColor(i)) } },
    },
  };
}

/** A search's metric by trial (points; pruned and failed trials have none) and the best so far as a step line. */
export function trialsChart(trials: Array<{ number: number; state: string; value?: number }>, metric: string, higherIsBetter: boolean): ChartSpec {
  let best: number | undefined;
  const rows = trials.map((t) => {
    if (t.state === 'complete' && t.value !== undefined && (best === undefined || (higherIsBetter ? t.value > best : t.value < best))) best = t.value;
    return { trial: t.number, state: t.state, value: t.state === 'complete' ? t.value : undefined, best };
  });
  return {
    $schema: SCHEMA,
    title: `Holdout ${metric} by trial`,
    width: SIZE.width,
    height: SIZE.height,
    data: { values: rows },
    layer: [
      {
        mark: { type: 'line', interpolate: 'step-after', color: COLORS.champion },
        encoding: { x: { field: 'trial', type: 'quantitative', title: 'Trial' }, y: { field: 'best', type: 'quantitative', title: `Holdout ${metric}`, scale: { zero: false } } },
      },
      {
        transform: [{ filter: 'datum.value != null' }],
        mark: { type: 'point', filled: true, tooltip: true, color: COLORS.candidate },
        encoding: { x: { field: 'trial', type: 'quantitative' }, y: { field: 'value', type: 'quantitative' } },
      },
    ],
  };
}

/** Each searched parameter against the holdout metric, one small chart per parameter (complete trials). */
export function paramsChart(trials: Array<{ params: Record<string, number | string | boolean>; state: string; value?: number }>, metric: string): ChartSpec {
  const rows = trials.filter((t) => t.state === 'complete').flatMap((t) => Object.entries(t.params).map(([param, setting]) => ({ param, setting: Number(setting), value: t.value })));
  return {
    $schema: SCHEMA,
    title: `Each parameter against the holdout ${metric}`,
    data: { values: rows },
    facet: { field: 'param', type: 'nominal', title: null },
    columns: 3,
    spec: {
      width: 200,
      height: 140,
      mark: { type: 'point', filled: true, tooltip: true, color: COLORS.candidate },
      encoding: { x: { field: 'setting', type: 'quantitative', title: null, scale: { zero: false } }, y: { field: 'value', type: 'quantitative', title: `Holdout ${metric}`, scale: { zero: false } } },
    },
    resolve: { scale: { x: 'independent' } },
  } as ChartSpec;
}

export function stepColor(i: number): string {
  return PALETTE[i % PALETTE.length];
}

/** Renders a Vega-Lite spec to an SVG document on the server. */
export async function renderSvg(spec: ChartSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
