import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { trainPipeline } from '../workflows/train-pipeline';
import type { RegressionMetrics } from '../contracts/metrics';
import { pipelineSpec, writeSpec, type SpecInput } from './support/specs';
import { harness, TEST_ARTIFACTS, type TestHarness } from './support/temporal';
import { recordHistory } from './support/record-history';

/**
 * The linear regression trainer (ridge, closed form in ONNX Runtime) on flights-delay.yaml's features over three
 * weeks, on the dev server: against scikit-learn's Ridge on the same feature files, and with the airports one-hot.
 */
const ROOT = path.resolve(__dirname, '..');
const PYTHON = path.join(ROOT, '.tools', 'venv', 'bin', 'python');
const L2 = 1e-3;
let h: TestHarness;

/** flights-delay.yaml on three weeks with the linear trainer; `categorical: false` drops the airports. */
function linearSpec(name: string, categorical: boolean, chunkRows?: number): string {
  const spec: SpecInput = pipelineSpec('flights-delay');
  spec.name = name;
  spec.split = { train: { from: '2001-01-01', to: '2001-01-21' }, validate: { from: '2001-01-22', to: '2001-01-31' } };
  spec.trainer = { type: 'linear_regression', l2: L2, ...(chunkRows ? { chunk_rows: chunkRows } : {}) };
  spec.gates = { r2: { min: -0.5 } }; // January's last ten days leave earlier than the training window: R² near 0
  spec.on_failure = { wait_for_operator: false };
  if (!categorical) {
    delete spec.features.categorical;
    spec.features.sql = spec.features.sql.replace(/\n\s*s\.origin AS origin_airport, s\.destination AS destination_airport,[^\n]*/, '');
  }
  return writeSpec(name, spec);
}

beforeAll(async () => {
  h = await harness('linear');
});
afterAll(() => h?.close());

describe('the linear regression trainer', () => {
  it("fits flights-delay's features like scikit-learn's Ridge, beats the training mean, and takes the airports one-hot", async () => {
    const chunkSums: number[] = [];
    const [numeric, withAirports, parallel] = await h.withWorker(async () => {
      const run = (spec: string, id: string) => h.client.workflow.execute(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `${id}-${process.pid}` });
      const workflowId = `linear-parallel-${process.pid}`;
      const inChunks = await run(linearSpec('linear-parallel', false, 100_000), 'linear-parallel');
      recordHistory(h.client.workflow.getHandle(workflowId), 'data-parallel-linear');
      for await (const fit of h.client.workflow.list({ query: `WorkflowType = 'fitLinear' AND WorkflowId STARTS_WITH '${workflowId}-fit-'` })) {
        const events = (await h.client.workflow.getHandle(fit.workflowId, fit.runId).fetchHistory()).events ?? [];
        chunkSums.push(events.filter((e) => e.activityTaskCompletedEventAttributes).length);
        recordHistory(h.client.workflow.getHandle(fit.workflowId, fit.runId), 'fit-linear');
      }
      return [await run(linearSpec('linear-numeric', false), 'linear-numeric'), await run(linearSpec('linear-airports', true), 'linear-airports'), inChunks];
    });
    const m = numeric.metrics as RegressionMetrics;
    expect(m.task).toBe('regression');
    expect(numeric.steps.find((s) => s.name === 'train')?.detail).toMatch(/^1 iteration/);
    const modelFolder = path.dirname(path.join(TEST_ARTIFACTS, numeric.modelUri.replace(/^artifact:/, '')));
    const reference = spawnSync(PYTHON, [path.join(__dirname, 'support', 'ridge_reference.py'), TEST_ARTIFACTS, modelFolder, String(L2)], { encoding: 'utf8' });
    expect(reference.stderr).toBe('');
    const { rmse, maxDifference } = JSON.parse(reference.stdout) as { rmse: number; maxDifference: number };
    console.log(`linear regression on three weeks: validation RMSE ${m.rmse.toFixed(4)} (scikit-learn Ridge ${rmse.toFixed(4)}, training mean ${m.baselineRmse.toFixed(4)}); predictions within ${maxDifference.toExponential(2)} minutes`);
    expect(Math.abs(m.rmse - rmse) / rmse).toBeLessThan(1e-4);
    expect(maxDifference).toBeLessThan(1e-2); // minutes, float32 scoring of a float64 fit
    expect(m.rmse).toBeLessThan(m.baselineRmse);
    expect(numeric.promoted).toBe(true);
    // Data-parallel (XᵀX and Xᵀy summed over chunks of 100,000 rows, each an activity): the same fit, to float rounding.
    const p = parallel.metrics as RegressionMetrics;
    console.log(`data-parallel over ${chunkSums[0]} chunks: validation RMSE ${p.rmse.toFixed(6)} against ${m.rmse.toFixed(6)} in memory`);
    expect(chunkSums).toEqual([Math.ceil(Number(/^(\d+) train/.exec(numeric.steps.find((s) => s.name === 'features')?.detail ?? '')?.[1]) / 100_000)]);
    expect(chunkSums[0]).toBeGreaterThan(1);
    expect(Math.abs(p.rmse - m.rmse) / m.rmse).toBeLessThan(1e-6);
    expect(parallel.steps.find((s) => s.name === 'train')?.detail).toMatch(/^1 iteration/);
    // Its own importance measure: the |standardized coefficients|.
    expect(m.importance?.measure).toBe('coefficient');

    const a = withAirports.metrics as RegressionMetrics;
    expect(a.rmse).toBeLessThan(a.baselineRmse);
    expect(a.importance?.features.map((f) => f.feature)).toEqual(expect.arrayContaining(['origin_airport', 'destination_airport']));
  });

  it('refuses a yes/no pipeline, naming the trainers that take it', async () => {
    const spec = pipelineSpec('flights');
    spec.trainer = { type: 'linear_regression' };
    const { loadSpecFile } = await import('../activities/spec/loader');
    expect(() => loadSpecFile(writeSpec('linear-binary', spec))).toThrow(/trainer\.type: linear_regression trains regression models, not binary ones \(task: binary\); trainers for binary: /);
  });
});
