import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { batchInference } from '../workflows/batch-inference';
import { trainPipeline } from '../workflows/train-pipeline';
import { smallFlightsSpec } from './support/specs';
import { harness, TEST_ARTIFACTS, type TestHarness } from './support/temporal';
import { binaryMetrics } from '../contracts/metric-values';

let h: TestHarness;

beforeAll(async () => {
  h = await harness('report');
});
afterAll(async () => {
  await h?.close();
});

interface Layer {
  title?: string;
  mark?: unknown;
  encoding?: Record<string, { title?: string; field?: string; scale?: { domain?: unknown[] } }>;
  layer?: Layer[];
}

/** Every layer of a Vega-Lite spec, nested ones included. */
const layers = (spec: Layer): Layer[] => [spec, ...(spec.layer ?? []).flatMap(layers)];
/** The axis titles a spec declares (x and y encodings of every layer). */
const axisTitles = (spec: Layer) => layers(spec).flatMap((l) => [l.encoding?.x?.title, l.encoding?.y?.title]).filter((t): t is string => t !== undefined);
/** The series a spec's colour legend shows. */
const legend = (spec: Layer) => layers(spec).flatMap((l) => (l.encoding?.color?.scale?.domain as string[] | undefined) ?? []);

describe('the run report', () => {
  it('writes report.html with ROC, calibration, metrics-vs-champion and timeline charts for each training run', async () => {
    const first = smallFlightsSpec('report');
    const second = smallFlightsSpec('report', (s) => (s.trainer = { type: 'logistic_regression', l2: 0.05, max_iterations: 30, tolerance: 1e-6, patience: 2 }));
    const [v1, v2] = await h.withWorker(async () => [
      await h.client.workflow.execute(trainPipeline, { args: [{ spec: first }], taskQueue: h.config.taskQueue, workflowId: `report-1-${process.pid}` }),
      await h.client.workflow.execute(trainPipeline, { args: [{ spec: second }], taskQueue: h.config.taskQueue, workflowId: `report-2-${process.pid}` }),
    ]);
    for (const result of [v1, v2]) {
      if (!result.report || 'error' in result.report) throw new Error(`no report: ${JSON.stringify(result.report)}`);
      expect(result.report.file.startsWith(TEST_ARTIFACTS)).toBe(true);
      expect(result.ledger?.entries.at(-1)?.step).toBe('report');
    }
    const report = v2.report as { file: string };
    const dir = path.dirname(report.file);
    const html = fs.readFileSync(report.file, 'utf8');
    const specs = JSON.parse(fs.readFileSync(path.join(dir, 'charts.vl.json'), 'utf8')) as Record<string, Layer>;
    expect(Object.keys(specs).sort()).toEqual(['calibration', 'importance', 'metrics', 'roc', 'timeline']);
    // Feature importance: AUC's drop per shuffled feature, most important first, beside the logistic model's |standardized coefficients| as shares.
    const importance = binaryMetrics(v2.metrics).importance;
    expect(importance).toMatchObject({ metric: 'auc', repeats: 3, seed: 7, measure: 'coefficient' });
    const drops = importance?.features.map((f) => f.drop) ?? [];
    expect(drops).toEqual([...drops].sort((a, b) => b - a));
    expect(new Set(importance?.features.map((f) => f.feature)).size).toBe(importance?.features.length);
    expect(importance?.features.length).toBeGreaterThan(10);
    expect(drops[0]).toBeGreaterThan(0.005);
    expect(importance?.features.reduce((s, f) => s + (f.own ?? 0), 0)).toBeCloseTo(1, 9);
    const importanceSvg = fs.readFileSync(path.join(dir, 'importance.svg'), 'utf8');
    for (const text of ['Drop of AUC when shuffled', "Share of the trainer's coefficient", importance?.features[0].feature ?? '?']) expect(importanceSvg).toContain(`>${text}</text>`);
    const expected: Record<string, string[]> = {
      metrics: ['Metric', 'Value (0–1; log loss: lower is better)'],
      roc: ['False positive rate (share of negatives flagged)', 'True positive rate (share of positives found)'],
      calibration: ['Rows in bin', 'Mean predicted probability', 'Observed positive rate'],
      timeline: ['Seconds since the run started (s)', 'Step'],
    };
    for (const [name, titles] of Object.entries(expected)) {
      expect(axisTitles(specs[name])).toEqual(expect.arrayContaining(titles));
      // The SVG is the spec rendered: its title and axis titles are drawn as text, and it is inline in the page.
      const svg = fs.readFileSync(path.join(dir, `${name}.svg`), 'utf8');
      for (const text of [specs[name].title as string, ...titles]) expect(svg).toContain(`>${text.replace(/&/g, '&amp;')}</text>`);
      expect(html).toContain(svg.slice(0, 200));
    }
    // The second run has a champion (v1): both series, named, in the ROC and metrics legends.
    expect(legend(specs.roc)).toEqual([`v2 (this model), AUC ${binaryMetrics(v2.metrics).auc.toFixed(4)}`, `v1 (champion), AUC ${binaryMetrics(v2.champion?.metrics).auc.toFixed(4)}`]);
    expect(legend(specs.metrics)).toEqual(['v2 (this model)', 'v1 (champion)']);
    expect(fs.readFileSync(path.join(dir, 'roc.svg'), 'utf8')).toContain('>v1 (champion), AUC');
    // The timeline names every step on its axis.
    const timeline = fs.readFileSync(path.join(dir, 'timeline.svg'), 'utf8');
    for (const step of ['extract', 'features', 'train', 'evaluate', 'evaluate-champion']) expect(timeline).toContain(`>${step}</text>`);
    expect(html).toContain(`<td>AUC</td><td>${binaryMetrics(v2.metrics).auc.toFixed(4)}</td><td>${binaryMetrics(v2.champion?.metrics).auc.toFixed(4)}</td>`);
    expect(html).toContain(v2.decision.outcome);
    for (const step of ['extract', 'features', 'train', 'evaluate', 'evaluate-champion']) expect(html).toContain(`</span>${step}</td>`);
    // The first run had no champion: one series only.
    const firstSpecs = JSON.parse(fs.readFileSync(path.join(path.dirname((v1.report as { file: string }).file), 'charts.vl.json'), 'utf8')) as Record<string, Layer>;
    expect(legend(firstSpecs.roc)).toEqual([`v1 (this model), AUC ${binaryMetrics(v1.metrics).auc.toFixed(4)}`]);
  });

  it('charts a batch-inference run: rows, mean score and drift from the training distribution per day', async () => {
    const spec = smallFlightsSpec('report', (s) => void (s.inference = { shard_rows: 40_000, slice_rows: 20_000, max_parallel_shards: 2, sink: { type: 'parquet', path: fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-scores-')) } }));
    const scored = await h.withWorker(() => h.client.workflow.execute(batchInference, { args: [{ spec, from: '2001-01-25', to: '2001-01-31' }], taskQueue: h.config.taskQueue, workflowId: `report-scores-${process.pid}` }));
    if (!scored.report || 'error' in scored.report) throw new Error(`no scores chart: ${JSON.stringify(scored.report)}`);
    expect(scored.shards).toBeGreaterThan(1);
    const dir = path.dirname(scored.report.file);
    const spec2 = JSON.parse(fs.readFileSync(path.join(dir, 'scores.vl.json'), 'utf8')) as { title: string; data: { values: Array<{ day: string; rows: number; meanScore: number; psi: number | null }> }; vconcat: Layer[] };
    expect(spec2.title).toBe(`report v${scored.modelVersion}: scores per day`);
    const days = spec2.data.values;
    expect(days.map((d) => d.day)).toEqual(['2001-01-25', '2001-01-26', '2001-01-27', '2001-01-28', '2001-01-29', '2001-01-30', '2001-01-31']);
    expect(days.reduce((sum, d) => sum + d.rows, 0)).toBe(scored.rows); // every shard's days, once
    for (const d of days) {
      expect(d.meanScore).toBeGreaterThan(0.05);
      expect(d.meanScore).toBeLessThan(0.6);
      expect(d.psi).toBeGreaterThanOrEqual(0); // a trained model has a reference distribution
    }
    const titles = spec2.vconcat.flatMap(axisTitles);
    expect(titles).toEqual(expect.arrayContaining(['Day (UTC)', 'Rows scored', 'Mean score (probability)', 'Drift from training (PSI)']));
    const svg = fs.readFileSync(path.join(dir, 'scores.svg'), 'utf8');
    for (const text of [spec2.title, 'Rows scored', 'Mean score (probability)', 'Drift from training (PSI)', 'large shift']) expect(svg).toContain(`>${text}</text>`);
    // The chart's cost is on the ledger; it is drawn beside the publish step, once every shard has finished.
    const entries = scored.ledger?.entries ?? [];
    const report = entries.find((e) => e.step === 'report');
    expect(report).toBeDefined();
    const shardsDone = entries.filter((e) => e.step.startsWith('score-shard-')).map((e) => e.finishedAt);
    expect(shardsDone.length).toBeGreaterThan(0);
    for (const finished of shardsDone) expect((report?.startedAt ?? '') >= finished).toBe(true);
  });
});
