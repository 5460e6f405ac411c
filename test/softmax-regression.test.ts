import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { trainPipeline } from '../workflows/train-pipeline';
import type { MulticlassMetrics } from '../contracts/metrics';
import { pipelineSpec, writeSpec, type SpecInput } from './support/specs';
import { harness, TEST_ARTIFACTS, type TestHarness } from './support/temporal';

/**
 * The softmax trainer (multinomial logistic regression, L-BFGS in ONNX Runtime) on seattle-weather-type.yaml's
 * features, on the dev server: against scikit-learn's multinomial LogisticRegression on the same feature files,
 * and with the kinds of weather one-hot.
 */
const ROOT = path.resolve(__dirname, '..');
const PYTHON = path.join(ROOT, '.tools', 'venv', 'bin', 'python');
const L2 = 1e-3;
let h: TestHarness;

/** seattle-weather-type.yaml with the softmax trainer; `categorical: false` drops today's and yesterday's kind of weather. */
function softmaxSpec(name: string, categorical: boolean, trainer: SpecInput['trainer']): string {
  const spec: SpecInput = pipelineSpec('seattle-weather-type');
  spec.name = name;
  spec.trainer = trainer;
  spec.on_failure = { wait_for_operator: false };
  if (!categorical) {
    delete spec.features.categorical;
    spec.features.sql = spec.features.sql.replace(/\n\s*s\.weather +AS weather_today,/, '').replace(/\n\s*coalesce\(lag\(s\.weather\) OVER day_by_day, 'unknown'\) +AS weather_yesterday,/, '');
  }
  return writeSpec(name, spec);
}

beforeAll(async () => {
  h = await harness('softmax');
});
afterAll(() => h?.close());

describe('the softmax trainer', () => {
  it("fits the weather's features like scikit-learn's multinomial LogisticRegression, beats the class shares, and takes the kinds of weather one-hot", async () => {
    const [numeric, stopped, withKinds] = await h.withWorker(async () => {
      const run = (spec: string, id: string) => h.client.workflow.execute(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `${id}-${process.pid}` });
      // To convergence on every training row (the default), as scikit-learn fits; then early-stopped on the last days.
      const converged = { type: 'softmax_regression' as const, l2: L2, max_iterations: 2_000, tolerance: 1e-7 };
      return [
        await run(softmaxSpec('softmax-numeric', false, converged), 'softmax-numeric'),
        await run(softmaxSpec('softmax-early', false, { type: 'softmax_regression', l2: L2, early_stopping: true }), 'softmax-early'),
        await run(softmaxSpec('softmax-kinds', true, { type: 'softmax_regression', l2: L2 }), 'softmax-kinds'),
      ];
    });
    const m = numeric.metrics as MulticlassMetrics;
    expect(m.task).toBe('multiclass');
    expect(numeric.steps.find((s) => s.name === 'train')?.detail).toMatch(/^\d+ iterations, converged/);
    const modelFolder = path.dirname(path.join(TEST_ARTIFACTS, numeric.modelUri.replace(/^artifact:/, '')));
    const reference = spawnSync(PYTHON, [path.join(__dirname, 'support', 'softmax_reference.py'), TEST_ARTIFACTS, modelFolder, String(L2)], { encoding: 'utf8' });
    expect(reference.stderr).toBe('');
    const { logLoss, maxDifference } = JSON.parse(reference.stdout) as { logLoss: number; maxDifference: number };
    const e = stopped.metrics as MulticlassMetrics;
    const k = withKinds.metrics as MulticlassMetrics;
    console.log(
      `softmax on 2012–2014: validation log loss ${m.logLoss.toFixed(4)} (scikit-learn ${logLoss.toFixed(4)}, class shares ${m.baselineLogLoss.toFixed(4)}); probabilities within ${maxDifference.toExponential(2)}; ` +
        `early-stopped ${e.logLoss.toFixed(4)} (${stopped.steps.find((s) => s.name === 'train')?.detail}); with the kinds one-hot ${k.logLoss.toFixed(4)}, accuracy ${k.accuracy.toFixed(4)}`,
    );
    expect(Math.abs(m.logLoss - logLoss)).toBeLessThan(0.002);
    expect(maxDifference).toBeLessThan(5e-3); // float32 sums against float64, each to its own tolerance
    expect(m.logLoss).toBeLessThan(m.baselineLogLoss);
    expect(numeric.promoted).toBe(true);
    expect(m.importance?.measure).toBe('coefficient');
    expect(stopped.steps.find((s) => s.name === 'train')?.detail).toMatch(/, early-stopped/);
    expect(e.logLoss).toBeLessThan(e.baselineLogLoss);
    expect(k.logLoss).toBeLessThan(k.baselineLogLoss);
    expect(k.importance?.features.map((f) => f.feature)).toEqual(expect.arrayContaining(['weather_today', 'weather_yesterday']));
  });

  it('refuses a pipeline that is not multiclass, naming the trainers that take it', async () => {
    const spec = pipelineSpec('flights');
    spec.trainer = { type: 'softmax_regression' };
    const { loadSpecFile } = await import('../activities/spec/loader');
    expect(() => loadSpecFile(writeSpec('softmax-binary', spec))).toThrow(/trainer\.type: softmax_regression trains multiclass models, not binary ones \(task: binary\); trainers for binary: /);
  });
});
