import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { batchInference } from '../workflows/batch-inference';
import { trainPipeline } from '../workflows/train-pipeline';
import type { RegressionMetrics } from '../contracts/metrics';
import { rootMessage } from '../contracts/root-cause';
import { pythonHarness, type PythonHarness } from './support/python-harness';
import { pipelineSpec, writeSpec, type SpecInput } from './support/specs';
import { TEST_ARTIFACTS, type TestHarness } from './support/temporal';

/**
 * A regression pipeline end to end on the dev server, with a real Python worker: pipelines/flights-delay.yaml
 * (LightGBM on the departure delay in minutes) on three weeks of flights is trained, evaluated by RMSE, MAE and R²
 * against the training mean, gated, promoted, compared with the champion on RMSE, and scored into a `prediction`
 * column that matches LightGBM's own predictions.
 */
const ROOT = path.resolve(__dirname, '..');
const PYTHON = path.join(ROOT, '.tools', 'venv', 'bin', 'python');
let h: TestHarness;
let queue: string;
let work: string;

/** flights-delay.yaml on three weeks, named `name`, with `change` applied. */
function delaySpec(name: string, change: (spec: SpecInput) => void = () => undefined): string {
  const spec = pipelineSpec('flights-delay');
  spec.name = name;
  spec.split = { train: { from: '2001-01-01', to: '2001-01-21' }, validate: { from: '2001-01-22', to: '2001-01-24' } };
  // Three January validation days leave early on average (mean delay −0.6 min against the training window's 7.4):
  // a model beats always predicting the training mean, but not the validation days' own mean (R² < 0).
  spec.gates = { r2: { min: -0.5 } };
  spec.execution = { python_task_queue: queue };
  spec.on_failure = { wait_for_operator: false };
  spec.inference = { shard_rows: 100_000, slice_rows: 100_000, max_parallel_shards: 1, sink: { type: 'parquet', path: path.join(work, name) } };
  change(spec);
  return writeSpec(name, spec);
}

let setup: PythonHarness;
beforeAll(async () => {
  setup = await pythonHarness('regression');
  ({ h, queue, work } = setup);
});
afterAll(() => setup?.close());

describe('a regression pipeline (flights-delay.yaml)', () => {
  it('is trained, beats the training mean, is gated and promoted, compared on RMSE, and scored into `prediction` like LightGBM predicts', async () => {
    const first = delaySpec('flights-delay-test');
    const second = delaySpec('flights-delay-test', (s) => (s.trainer = { type: 'lightgbm', objective: 'regression', trees: 200, leaves: 31, learning_rate: 0.05 }));
    const day = '2001-01-23';
    const { v1, v2, scored } = await h.withWorker(async () => {
      const start = (spec: string, id: string) => h.client.workflow.execute(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `${id}-${process.pid}` });
      const v1 = await start(first, 'delay-v1');
      const v2 = await start(second, 'delay-v2');
      const scored = await h.client.workflow.execute(batchInference, { args: [{ spec: second, partition: day }], taskQueue: h.config.taskQueue, workflowId: `delay-infer-${process.pid}` });
      return { v1, v2, scored };
    });
    const m = v1.metrics as RegressionMetrics;
    expect(m.task).toBe('regression');
    console.log(`flights-delay on three weeks: validation RMSE ${m.rmse.toFixed(3)} (training mean ${m.baselineRmse.toFixed(3)}), MAE ${m.mae.toFixed(3)}, R² ${m.r2.toFixed(4)}`);
    expect(m.rmse).toBeLessThan(m.baselineRmse);
    expect(v1.steps.find((s) => s.name === 'evaluate')?.detail).toBe(`RMSE ${m.rmse.toFixed(4)}`);
    expect(v1.decision.reasons).toEqual([
      `pass: RMSE ${m.rmse.toFixed(4)} beats the baseline ${m.baselineRmse.toFixed(4)} of always predicting the training mean ${m.baselineMean.toFixed(4)}`,
      `pass: R² ${m.r2.toFixed(4)} >= gates.r2.min -0.5`,
      'pass: no champion yet',
    ]);
    expect(v1.promoted).toBe(true);
    // The run report: the regression's metrics table and its predicted-against-actual chart (no ROC, no calibration).
    const reportDir = path.dirname((v1.report as { file: string }).file);
    const html = fs.readFileSync(path.join(reportDir, 'report.html'), 'utf8');
    expect(html).toContain(`<td>RMSE</td><td>${m.rmse.toFixed(4)}</td>`);
    expect(fs.readdirSync(reportDir).filter((f) => f.endsWith('.svg')).sort()).toEqual(['importance.svg', 'predicted.svg', 'residuals.svg', 'timeline.svg']);
    // Residuals per validation day: every row in one day, the days' RMSEs those of their rows.
    expect(m.byDay?.map((d) => d.day)).toEqual(['2001-01-22', '2001-01-23', '2001-01-24']);
    expect(m.byDay?.reduce((s, d) => s + d.rows, 0)).toBe(m.rows);
    expect(Math.sqrt((m.byDay ?? []).reduce((s, d) => s + d.rows * d.rmse ** 2, 0) / m.rows)).toBeCloseTo(m.rmse, 6);
    // Importance by RMSE: the worsening in minutes when a feature is shuffled, beside LightGBM's gain.
    expect(m.importance).toMatchObject({ metric: 'rmse', measure: 'gain' });
    expect(m.importance?.features[0].drop).toBeGreaterThan(0);

    // The second configuration is compared with v1 on the same rows, on RMSE (lower is better, tolerance in minutes).
    const c = v2.champion?.metrics as RegressionMetrics;
    expect(c.rmse).toBe(m.rmse);
    const ours = (v2.metrics as RegressionMetrics).rmse;
    const delta = ours - c.rmse;
    expect(v2.decision.reasons).toContain(`${-delta >= -0.05 ? 'pass' : 'FAIL'}: RMSE ${ours.toFixed(4)} vs champion v${v1.modelVersion} ${c.rmse.toFixed(4)} on the same data (${delta >= 0 ? '+' : ''}${delta.toFixed(4)}, tolerance 0.05)`);

    // Batch inference writes the number into `prediction`, as LightGBM itself predicts it.
    const champion = v2.promoted ? v2 : v1;
    expect(scored.modelVersion).toBe(champion.modelVersion);
    const modelFolder = path.dirname(path.join(TEST_ARTIFACTS, champion.modelUri.replace(/^artifact:/, '')));
    const compared = spawnSync(PYTHON, [path.join(__dirname, 'support', 'lightgbm_predictions.py'), TEST_ARTIFACTS, modelFolder, path.join(work, 'flights-delay-test', '*', '*.parquet'), day, JSON.stringify(['date', 'origin', 'destination']), 'prediction'], { encoding: 'utf8' });
    expect(compared.stderr).toBe('');
    const { sinkRows, matched, maxDifference } = JSON.parse(compared.stdout) as { sinkRows: number; matched: number; maxDifference: number };
    expect(sinkRows).toBe(scored.rows);
    expect(matched).toBeGreaterThan(scored.rows * 0.9);
    expect(maxDifference).toBeLessThanOrEqual(1e-4); // minutes, in float32

    // Drift: the day's predictions in the model's validation deciles, against the validation rows in them.
    const champ = champion.metrics as RegressionMetrics;
    expect(champ.deciles).toHaveLength(9);
    expect(champ.decileRows.reduce((a, b) => a + b, 0)).toBe(champ.rows);
    expect(scored.report && 'file' in scored.report).toBe(true);
    const chart = JSON.parse(fs.readFileSync(path.join(path.dirname((scored.report as { file: string }).file), 'scores.vl.json'), 'utf8')) as { data: { values: Array<{ day: string; meanScore: number; psi: number | null }> } };
    const [scoredDay] = chart.data.values;
    expect(scoredDay.day).toBe(day);
    expect(scoredDay.psi).toBeGreaterThanOrEqual(0);
    expect(scoredDay.psi).toBeLessThan(0.25); // a validation day, scored again: the distribution the deciles came from
  });

  it('a binary spec cannot score with a regression model: refused, naming both tasks', async () => {
    const spec = delaySpec('flights-delay-test', (s) => {
      delete s.task;
      s.label = { name: 'delay_minutes', sql: 'delay > 15' };
      s.gates = { beat_baseline: false };
      if (s.promotion) delete s.promotion.metric;
      delete (s.trainer as { objective?: string }).objective;
    });
    const err = await h.withWorker(() => h.client.workflow.execute(batchInference, { args: [{ spec, partition: '2001-01-23' }], taskQueue: h.config.taskQueue, workflowId: `delay-wrong-task-${process.pid}` }).then(() => undefined, (e: unknown) => e));
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(rootMessage(err)).toMatch(/^flights-delay-test v\d+ is a regression model; the spec's task is binary/);
  });
});
