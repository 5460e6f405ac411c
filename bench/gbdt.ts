/**
 * Benchmark: gradient-boosted trees through Sluice against LightGBM alone, in one run.
 *  1. Validation AUC and fit time of the train step (the Python worker's activity, scheduled to completed:
 *     Temporal, heartbeats, checkpoints and the ONNX export included) against a plain LightGBM script on
 *     the same feature files with the same settings and the same early-stopping holdout.
 *  2. Batch-scoring throughput of the tree model on all 3M rows (batchInference, to Parquet) against
 *     ONNX Runtime alone on in-memory tensors of the same model, and ONNX Runtime alone against
 *     LightGBM's own `predict` on the same rows (2 threads each).
 * For information: `refit: true` against the script fitting every training row.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { stringify } from 'yaml';
import { ArtifactStore } from '../activities/storage/artifact-store';
import { loadSpecFile } from '../activities/spec/loader';
import { batchInference } from '../workflows/batch-inference';
import { inMemoryFeatures, ortAloneSeconds } from './in-memory-features';
import { freshArtifactRoot, withPythonBench } from './python-bench';
import { categoricalIndices, featuresFor, PYTHON } from './reference';
import { binaryMetrics } from '../contracts/metric-values';

const FROM = '2001-01-01';
const TO = '2001-07-01';
const PORT = 7249;
const SCRIPT = path.resolve('bench', 'peers', 'lightgbm_script.py');

interface ScriptFit {
  auc: number;
  load_seconds: number;
  fit_seconds: number;
  iterations: number;
}

function python<T>(args: string[]): T {
  const run = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
  if (run.status !== 0) throw new Error(`lightgbm_script.py ${args[0]} failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() as string) as T;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-gbdt-'));
  process.env.SLUICE_DATA_ROOTS = [process.cwd(), work].join(path.delimiter);
  const cached = new ArtifactStore(path.resolve('.sluice', 'bench-artifacts'));
  const specFile = 'pipelines/flights-gbdt.yaml';
  const loaded = loadSpecFile(specFile);
  const trainer = loaded.spec.trainer;
  if (trainer.type !== 'lightgbm') throw new Error(`${specFile}: expected a lightgbm trainer`);
  const features = await featuresFor(cached, specFile);
  const names = features.featureColumns.map((c) => c.name);
  const root = freshArtifactRoot(cached, work);
  const store = new ArtifactStore(root);

  const settings = (allRows: boolean) => JSON.stringify({ ...trainer, all_rows: allRows, categorical: categoricalIndices(features) });
  const fitArgs = (allRows: boolean) => ['fit', cached.pathOf(features.train.uri), cached.pathOf(features.validate.uri), features.label, loaded.spec.extract.time_column, settings(allRows), ...names];
  const script = python<ScriptFit>(fitArgs(false));
  const scriptAllRows = python<ScriptFit>(fitArgs(true));

  const benchSpec = (name: string, refit: boolean) => {
    const file = path.join('pipelines', `.bench-${name}-${process.pid}.yaml`);
    const spec = {
      extends: 'flights.yaml',
      trainer: { ...trainer, refit },
      inference: { ...loaded.spec.inference, sink: { type: 'parquet', path: path.join(work, `sink-${name}`) } },
      execution: { python_task_queue: 'bench-python' },
    };
    fs.writeFileSync(file, stringify(spec));
    return file;
  };
  const specs = [benchSpec('gbdt', false), benchSpec('gbdt-refit', true)];
  try {
    // Sluice end to end: a dev server, a TypeScript worker in this process, the Python worker as a child.
    const measured = await withPythonBench(PORT, root, async ({ client, train }) => {
      const ours = await train(specs[0], 'bench-gbdt');
      // Scores with the plain model (the champion now): the one the fit-time and AUC comparisons are about.
      const seconds: number[] = [];
      let rows = 0;
      for (let r = 0; r < 2; r++) {
        const t = performance.now();
        const scored = await client.workflow.execute(batchInference, { taskQueue: 'bench', workflowId: `bench-gbdt-infer-${r}`, args: [{ spec: specs[0], from: FROM, to: TO }] });
        seconds.push((performance.now() - t) / 1000);
        rows = scored.rows;
      }
      const refit = await train(specs[1], 'bench-gbdt-refit');
      return { ours, refit, scoringSeconds: Math.min(...seconds), rows };
    });

    const { ours, refit, scoringSeconds, rows } = measured;
    const modelFile = store.pathOf(ours.result.modelUri);
    const { x, rows: inMemory } = await inMemoryFeatures(cached, loaded, features, { from: FROM, to: TO });
    if (inMemory !== rows) throw new Error(`batchInference scored ${rows} rows, the in-memory features have ${inMemory}`);
    const ortSeconds = ortAloneSeconds(modelFile, x, rows, names.length);
    const rowsFile = path.join(work, 'rows.f32');
    fs.writeFileSync(rowsFile, x);
    const lightgbm = python<{ rows: number; seconds: number }>(['predict', path.join(path.dirname(modelFile), 'lightgbm.txt'), rowsFile, String(names.length), '2']);

    const aucGap = binaryMetrics(ours.result.metrics).auc - script.auc;
    const fitRatio = ours.seconds / (script.load_seconds + script.fit_seconds);
    const vsOrt = ortSeconds / scoringSeconds;
    const vsLightgbm = lightgbm.seconds / ortSeconds;
    const rate = (s: number) => `${(rows / s / 1e6).toFixed(2)} M rows/s`;
    const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
    console.log(`\nGBDT benchmark: LightGBM ${trainer.trees} trees, ${trainer.leaves} leaves, learning rate ${trainer.learning_rate}; ${features.train.rows} training rows × ${names.length} features`);
    console.log(`plain script (same holdout):  AUC ${script.auc.toFixed(4)}  ${script.iterations} rounds  load ${script.load_seconds.toFixed(1)} s + fit ${script.fit_seconds.toFixed(1)} s`);
    console.log(`sluice train step:            AUC ${binaryMetrics(ours.result.metrics).auc.toFixed(4)}  ${ours.result.steps.find((s) => s.name === 'train')?.detail}  ${ours.seconds.toFixed(1)} s scheduled to completed`);
    console.log(`plain script, every row:      AUC ${scriptAllRows.auc.toFixed(4)}  ${scriptAllRows.iterations} rounds  fit ${scriptAllRows.fit_seconds.toFixed(1)} s`);
    console.log(`sluice with refit: true:      AUC ${binaryMetrics(refit.result.metrics).auc.toFixed(4)}  ${refit.result.steps.find((s) => s.name === 'train')?.detail}  ${refit.seconds.toFixed(1)} s`);
    console.log(`scoring ${rows} rows: sluice batchInference ${scoringSeconds.toFixed(2)} s (${rate(scoringSeconds)}), ONNX Runtime alone ${ortSeconds.toFixed(2)} s (${rate(ortSeconds)}), LightGBM predict ${lightgbm.seconds.toFixed(2)} s (${rate(lightgbm.seconds)})`);
    console.log(`\nAUC, sluice − script: ${aucGap >= 0 ? '+' : ''}${aucGap.toFixed(4)}  (target ≥ −0.002: ${met(aucGap >= -0.002)})`);
    console.log(`fit time, sluice/script: ${fitRatio.toFixed(2)}×  (target ≤ 1.15×: ${met(fitRatio <= 1.15)})`);
    console.log(`tree scoring throughput, sluice/ONNX Runtime alone: ${(100 * vsOrt).toFixed(0)}%  (target ≥ 80%: ${met(vsOrt >= 0.8)})`);
    console.log(`tree scoring throughput, ONNX Runtime/LightGBM predict: ${vsLightgbm.toFixed(2)}×  (target ≥ 1.2×: ${met(vsLightgbm >= 1.2)})`);
  } finally {
    for (const file of specs) fs.rmSync(file, { force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
