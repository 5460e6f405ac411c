import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { queryRegistry } from '../activities/registry/registry';
import { withDuckDB, sqlString } from '../activities/sql/duckdb';
import { batchInference } from '../workflows/batch-inference';
import { rollbackModel } from '../workflows/rollback';
import { trainPipeline } from '../workflows/train-pipeline';
import { run } from '../scripts/sluice-cli';
import type { MulticlassMetrics } from '../contracts/metrics';
import { pythonHarness, type PythonHarness } from './support/python-harness';
import { pipelineSpec, writeSpec, type SpecInput } from './support/specs';
import { TEST_ARTIFACTS, type TestHarness } from './support/temporal';

/**
 * A multiclass pipeline end to end on the dev server, with a real Python worker: pipelines/seattle-weather-type.yaml
 * (LightGBM on tomorrow's kind of weather) is trained, evaluated by log loss, accuracy and macro-F1 against the
 * training class shares, gated, promoted, compared with the champion on log loss, rolled back, and scored into
 * `predicted_class` and a probability column per class that match LightGBM's own probabilities.
 */
const ROOT = path.resolve(__dirname, '..');
const PYTHON = path.join(ROOT, '.tools', 'venv', 'bin', 'python');
const CLASSES = ['drizzle', 'fog', 'rain', 'snow', 'sun']; // the training window's, in text order
let h: TestHarness;
let queue: string;
let work: string;

/** seattle-weather-type.yaml named `name`, on this file's Python worker, with `change` applied. */
function weatherSpec(name: string, change: (spec: SpecInput) => void = () => undefined): string {
  const spec = pipelineSpec('seattle-weather-type');
  spec.name = name;
  spec.execution = { python_task_queue: queue };
  spec.on_failure = { wait_for_operator: false };
  spec.inference = { shard_rows: 100, slice_rows: 31, max_parallel_shards: 2, sink: { type: 'parquet', path: path.join(work, name) } };
  change(spec);
  return writeSpec(name, spec);
}

let setup: PythonHarness;
beforeAll(async () => {
  setup = await pythonHarness('multiclass');
  ({ h, queue, work } = setup);
});
afterAll(() => setup?.close());

describe('a multiclass pipeline (seattle-weather-type.yaml)', () => {
  it('is trained, beats the class shares, is gated, promoted, compared on log loss, rolled back, and scored into a probability per class like LightGBM', async () => {
    const name = 'weather-type-test';
    const first = weatherSpec(name);
    // A second configuration, promoted whatever its log loss (tolerance 1), so the rollback has a version to leave.
    const second = weatherSpec(name, (s) => {
      s.trainer = { type: 'lightgbm', trees: 200, leaves: 15, learning_rate: 0.1, min_data_in_leaf: 20, early_stopping_rounds: 20, seed: 3 };
      s.promotion = { mode: 'auto', metric: 'log_loss', tolerance: 1 };
    });
    // A gate it cannot pass: the run ends unpromoted, saying which gate failed.
    const strict = weatherSpec(name, (s) => (s.gates = { macro_f1: { min: 0.99 } }));
    const march = { from: '2015-03-01', to: '2015-03-31' };
    const shown: string[] = [];
    const { v1, v2, v3, registry, scored } = await h.withWorker(async () => {
      const start = (spec: string, id: string) => h.client.workflow.execute(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `${id}-${process.pid}` });
      const v1 = await start(first, 'weather-v1');
      const v2 = await start(second, 'weather-v2');
      const v3 = await start(strict, 'weather-v3');
      await h.client.workflow.execute(rollbackModel, { args: [{ spec: second, toVersion: v1.modelVersion, actor: 'test', reason: 'back to the first configuration' }], taskQueue: h.config.taskQueue, workflowId: `weather-rollback-${process.pid}` });
      const registry = await queryRegistry(h.client, name);
      expect(await run(['models', 'show', name, String(v1.modelVersion)], h.client, (line) => shown.push(line), h.config)).toBe(0);
      const scored = await h.client.workflow.execute(batchInference, { args: [{ spec: first, from: march.from, to: march.to }], taskQueue: h.config.taskQueue, workflowId: `weather-infer-${process.pid}` });
      return { v1, v2, v3, registry, scored };
    });

    const m = v1.metrics as MulticlassMetrics;
    expect(m.task).toBe('multiclass');
    console.log(`seattle-weather-type: validation log loss ${m.logLoss.toFixed(4)} (class shares ${m.baselineLogLoss.toFixed(4)}), accuracy ${m.accuracy.toFixed(4)}, macro-F1 ${m.macroF1.toFixed(4)}`);
    expect(m.rows).toBe(364); // 2015, its last day dropped: its tomorrow is past the data
    expect(m.perClass.map((c) => c.class)).toEqual(CLASSES);
    expect(m.perClass.find((c) => c.class === 'snow')?.support).toBe(0); // no snow in 2015
    expect(m.confusion.flat().reduce((a, b) => a + b, 0)).toBe(m.rows);
    expect(m.logLoss).toBeLessThan(m.baselineLogLoss);
    expect(v1.steps.find((s) => s.name === 'evaluate')?.detail).toBe(`log loss ${m.logLoss.toFixed(4)}`);
    expect(v1.decision.reasons).toEqual([
      `pass: log loss ${m.logLoss.toFixed(4)} beats the baseline ${m.baselineLogLoss.toFixed(4)} of always predicting the training window's class shares`,
      `pass: accuracy ${m.accuracy.toFixed(4)} >= gates.accuracy.min 0.4`,
      'pass: no champion yet',
    ]);
    expect(v1.promoted).toBe(true);
    // The run report: the multiclass metrics table, the confusion matrix and the per-class recall (no ROC, no calibration).
    const reportDir = path.dirname((v1.report as { file: string }).file);
    const html = fs.readFileSync(path.join(reportDir, 'report.html'), 'utf8');
    expect(html).toContain(`<td>macro-F1</td><td>${m.macroF1.toFixed(4)}</td>`);
    expect(fs.readdirSync(reportDir).filter((f) => f.endsWith('.svg')).sort()).toEqual(['confusion.svg', 'importance.svg', 'recall.svg', 'timeline.svg']);
    // Importance by log loss, beside LightGBM's gain; `sluice models show` lists the top features.
    expect(m.importance).toMatchObject({ metric: 'log_loss', rows: 364, measure: 'gain' });
    const top = m.importance?.features[0];
    expect(top?.drop).toBeGreaterThan(0.01);
    expect(m.importance?.features.reduce((s, f) => s + (f.own ?? 0), 0)).toBeCloseTo(1, 9);
    expect(shown.join('\n')).toContain(`Most important of 16 features (drop of log loss when shuffled, 364 validation rows, 3 shuffles, seed 7):`);
    expect(shown.join('\n')).toMatch(new RegExp(`\\n\\s+1\\s+${top?.feature}\\s+${top?.drop.toFixed(4)} ± `));
    const charts = JSON.parse(fs.readFileSync(path.join(reportDir, 'charts.vl.json'), 'utf8')) as Record<string, { data: { values: Array<{ actual: string; predicted: string; rows: number }> } }>;
    const rainAsRain = charts.confusion.data.values.find((v) => v.actual === 'rain' && v.predicted === 'rain')?.rows;
    expect(rainAsRain).toBe(m.confusion[2][2]);

    // The second configuration is compared with v1 on the same rows, on log loss (lower is better).
    const c = v2.champion?.metrics as MulticlassMetrics;
    expect(c.logLoss).toBe(m.logLoss);
    const delta = (v2.metrics as MulticlassMetrics).logLoss - c.logLoss;
    expect(v2.decision.reasons).toContain(`pass: log loss ${(v2.metrics as MulticlassMetrics).logLoss.toFixed(4)} vs champion v${v1.modelVersion} ${c.logLoss.toFixed(4)} on the same data (${delta >= 0 ? '+' : ''}${delta.toFixed(4)}, tolerance 1)`);
    expect(v2.promoted).toBe(true);
    expect(v3.promoted).toBe(false);
    expect(v3.decision.reasons).toContain(`FAIL: macro-F1 ${(v3.metrics as MulticlassMetrics).macroF1.toFixed(4)} < gates.macro_f1.min 0.99`);
    expect(registry?.aliases.champion).toBe(v1.modelVersion);

    // Batch inference with the champion (v1 again): the most probable class and each class's probability, as LightGBM predicts them.
    expect(scored.modelVersion).toBe(v1.modelVersion);
    expect(scored.rows).toBe(31);
    const sink = path.join(work, name, '*', '*.parquet');
    const columns = await withDuckDB(async (db) => (await db.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlString(sink)}, hive_partitioning = false)`)).getRowsJS().map((r) => String(r[0])));
    expect(columns).toEqual(['date', 'predicted_class', ...CLASSES.map((k) => `p_${k}`), 'model_version', 'run_id']);
    const modelFolder = path.dirname(path.join(TEST_ARTIFACTS, v1.modelUri.replace(/^artifact:/, '')));
    const compared = spawnSync(PYTHON, [path.join(__dirname, 'support', 'lightgbm_predictions.py'), TEST_ARTIFACTS, modelFolder, sink, `${march.from}..${march.to}`, JSON.stringify(['date'])], { encoding: 'utf8' });
    expect(compared.stderr).toBe('');
    const { sinkRows, matched, maxDifference, wrongClass } = JSON.parse(compared.stdout) as { sinkRows: number; matched: number; maxDifference: number; wrongClass: number };
    expect(sinkRows).toBe(31);
    expect(matched).toBe(31);
    expect(maxDifference).toBeLessThanOrEqual(1e-5);
    expect(wrongClass).toBe(0);

    // Drift: each day's predicted classes against the validation window's.
    const chart = JSON.parse(fs.readFileSync(path.join(path.dirname((scored.report as { file: string }).file), 'scores.vl.json'), 'utf8')) as { data: { values: Array<{ day: string; meanScore: number; psi: number | null }> } };
    expect(chart.data.values).toHaveLength(31);
    for (const d of chart.data.values) {
      expect(d.psi).toBeGreaterThan(0); // one row a day: a single predicted class against the validation mix
      expect(d.meanScore).toBeGreaterThan(1 / CLASSES.length); // the predicted class's probability
      expect(d.meanScore).toBeLessThanOrEqual(1);
    }
  });

  it('tunes by holdout log loss: each trial a multiclass fit on the training window, the best trained and evaluated', async () => {
    const name = 'weather-type-tuned';
    const file = weatherSpec(name, (s) => {
      s.trainer = { type: 'lightgbm', trees: 60, leaves: 7, learning_rate: 0.1, min_data_in_leaf: 10, early_stopping_rounds: 15, seed: 7 };
      s.tune = { trials: 3, metric: 'log_loss', seed: 5, space: { learning_rate: { float: [0.03, 0.3], log: true }, leaves: { int: [3, 15] } } };
    });
    const tuned = await h.withWorker(() => h.client.workflow.execute(trainPipeline, { args: [{ spec: file }], taskQueue: h.config.taskQueue, workflowId: `weather-tuned-${process.pid}` }));
    const tuning = tuned.tuning!;
    for (const t of tuning.trials) console.log(`seattle-weather-type trial ${t.number}: ${JSON.stringify(t.params)} ${t.state} holdout log loss ${t.value ?? t.reason}`);
    expect(tuning.trials).toHaveLength(3);
    expect(tuning.trials.every((t) => t.state === 'complete' && t.value! > 0.3 && t.value! < 2)).toBe(true);
    // Lower is better: the best trial has the least holdout log loss, and the train step fitted its settings.
    expect(tuning.best!.value).toBe(Math.min(...tuning.trials.map((t) => t.value!)));
    const steps = Object.fromEntries(tuned.steps.map((s) => [s.name, s]));
    expect(steps.tune.detail).toContain(`best holdout log loss ${tuning.best!.value!.toFixed(4)} (trial ${tuning.best!.number}`);
    const m = tuned.metrics as MulticlassMetrics;
    expect(m.task).toBe('multiclass');
    expect(m.perClass.map((c) => c.class)).toEqual(CLASSES);
    expect(m.logLoss).toBeLessThan(m.baselineLogLoss);
  });
});
