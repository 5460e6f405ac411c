import fs from 'node:fs';
import path from 'node:path';
import type { ArtifactStore } from '../storage/artifact-store';
import { metered } from '../cost/meter';
import { psi, referenceBins, type DayScores } from '../inference/score-stats';
import type { TopLevelSpec } from 'vega-lite';
import { renderSvg, type ChartSpec } from './charts';
import { reportFolder } from './run-report';
import type { CalibrationBin } from '../../contracts/metrics';

export interface ScoresReportInput {
  pipeline: string;
  workflowId: string;
  runId: string;
  modelVersion: number;
  days: DayScores[];
  /** The model's calibration table on its validation window: the training-time score distribution. */
  calibration?: CalibrationBin[];
  /** A regression's validation rows per decile bin (instead of a calibration table), and that its output is a prediction. */
  decileRows?: number[];
  /** A multiclass model's validation rows per predicted class (in its class order): its days' bins are their predicted classes. */
  classRows?: number[];
}

/** PSI above which the chart marks a day's scores as moved ("moderate" shift) and far moved ("large"). */
const PSI_LINES = [
  { psi: 0.1, label: 'moderate shift' },
  { psi: 0.25, label: 'large shift' },
];

/**
 * Writes a batch-inference run's scores over time — per day the rows scored, the mean score, the drift of
 * the day's score distribution from the one the model had on its validation window (PSI), and the rows with a
 * category training never saw — as
 * `scores.html` with the chart inline, `scores.svg` and its Vega-Lite spec `scores.vl.json`, under
 * `reports/<workflow id>/<run id>/` in the artifact store.
 */
export async function writeScoresReport(store: ArtifactStore, input: ScoresReportInput) {
  return metered(async (meter) => {
    const { uri, dir } = reportFolder(store, input.workflowId, input.runId);
    const spec = scoresChart(input);
    const svg = await renderSvg(spec);
    fs.writeFileSync(path.join(dir, 'scores.svg'), svg);
    fs.writeFileSync(path.join(dir, 'scores.vl.json'), JSON.stringify(spec, null, 2));
    const page = `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${spec.title}</title></head>\n<body style="font: 14px system-ui, sans-serif">\n${svg}\n</body></html>\n`;
    fs.writeFileSync(path.join(dir, 'scores.html'), page);
    meter.bytesOut = Buffer.byteLength(page) + Buffer.byteLength(svg);
    await store.push(uri);
    return { uri: `${uri}/scores.html`, file: path.join(dir, 'scores.html') };
  });
}

/**
 * Panels over the same days: rows scored, mean score, (when the model has a reference) PSI drift, and (when a
 * categorical feature met a category training never saw) those rows per feature.
 */
export function scoresChart(input: ScoresReportInput): ChartSpec {
  const reference = referenceBins(input.calibration, input.decileRows, input.classRows);
  const values = input.days.map((d) => ({ day: d.day, rows: d.rows, meanScore: d.meanScore, psi: reference ? psi(d.bins, reference) : null }));
  // Categories the training window never saw, per day and feature: scored as missing, a sign of drift.
  const unseen = input.days.flatMap((d) => Object.entries(d.unseen ?? {}).map(([feature, rows]) => ({ day: d.day, feature, rows })));
  // Each feature's drift per day: a heatmap, feature × day, of its PSI against the validation window.
  const drift = input.days.flatMap((d) => Object.entries(d.featurePsi ?? {}).map(([feature, value]) => ({ day: d.day, feature, psi: value })));
  const day = { field: 'day', type: 'temporal' as const, timeUnit: 'utcyearmonthdate' as const, title: 'Day (UTC)' };
  const panel = { width: 560, height: 130 };
  const title = `${input.pipeline} v${input.modelVersion}: scores per day`;
  const chart: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    data: { values },
    vconcat: [
      { ...panel, mark: { type: 'bar', tooltip: true }, encoding: { x: day, y: { field: 'rows', type: 'quantitative', title: 'Rows scored' } } },
      { ...panel, mark: { type: 'line', point: true, tooltip: true }, encoding: { x: day, y: { field: 'meanScore', type: 'quantitative', title: input.decileRows ? 'Mean prediction' : input.classRows ? 'Mean probability of the predicted class' : 'Mean score (probability)' } } },
      ...(reference
        ? [
            {
              ...panel,
              layer: [
                { mark: { type: 'line' as const, point: true, tooltip: true, color: '#e45756' }, encoding: { x: day, y: { field: 'psi', type: 'quantitative' as const, title: 'Drift from training (PSI)' } } },
                { data: { values: PSI_LINES }, mark: { type: 'rule' as const, strokeDash: [6, 4], color: '#999999' }, encoding: { y: { field: 'psi', type: 'quantitative' as const } } },
                { data: { values: PSI_LINES }, mark: { type: 'text' as const, align: 'left' as const, dx: 4, dy: -6, color: '#666666' }, encoding: { y: { field: 'psi', type: 'quantitative' as const }, x: { value: 0 }, text: { field: 'label' } } },
              ],
            },
          ]
        : []),
      ...(unseen.length > 0
        ? [
            {
              ...panel,
              data: { values: unseen },
              mark: { type: 'bar' as const, tooltip: true },
              encoding: {
                x: day,
                y: { field: 'rows', type: 'quantitative' as const, title: 'Rows, category never seen in training' },
                color: { field: 'feature', type: 'nominal' as const, title: 'Categorical feature' },
                xOffset: { field: 'feature', type: 'nominal' as const },
              },
            },
          ]
        : []),
      ...(drift.length > 0
        ? [
            {
              width: 560,
              height: { step: 14 },
              data: { values: drift },
              mark: { type: 'rect' as const, tooltip: true },
              encoding: {
                x: { field: 'day', type: 'ordinal' as const, title: 'Day (UTC)', axis: { labelAngle: -45 } },
                y: { field: 'feature', type: 'nominal' as const, title: 'Feature', sort: { op: 'max' as const, field: 'psi', order: 'descending' as const } },
                color: { field: 'psi', type: 'quantitative' as const, title: 'PSI', scale: { scheme: 'reds' as const, domain: [0, 0.5], clamp: true } },
              },
            },
          ]
        : []),
    ],
  };
  return { ...chart, title };
}
