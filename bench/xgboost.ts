/**
 * Benchmark: the XGBoost trainer plug-in against a plain XGBoost script, in one run: validation AUC and fit time
 * of the train step (the Python worker's activity, scheduled to completed: Temporal, heartbeats, checkpoints and
 * the ONNX export and its check included) against the script on the same feature files, with the same settings
 * and the same early-stopping holdout. Targets: AUC ≥ script − 0.002, fit time ≤ 1.15×.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { stringify } from 'yaml';
import { ArtifactStore } from '../activities/storage/artifact-store';
import { loadSpecFile } from '../activities/spec/loader';
import { freshArtifactRoot, withPythonBench } from './python-bench';
import { categoricalIndices, featuresFor, PYTHON } from './reference';
import { binaryMetrics } from '../contracts/metric-values';

const PORT = 7250;
const SCRIPT = path.resolve('bench', 'peers', 'xgboost_script.py');
/** The settings both sides train with: the plug-in's defaults but for these (no refit: the script follows the early-stopping protocol alone). */
const TRAINER = { type: 'xgboost', trees: 300, max_depth: 8, learning_rate: 0.1, early_stopping_rounds: 30, threads: 2, seed: 7, refit: false };

interface ScriptFit {
  auc: number;
  load_seconds: number;
  fit_seconds: number;
  iterations: number;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-xgboost-'));
  process.env.SLUICE_DATA_ROOTS = [process.cwd(), work].join(path.delimiter);
  const cached = new ArtifactStore(path.resolve('.sluice', 'bench-artifacts'));
  const base = 'pipelines/flights.yaml';
  const loaded = loadSpecFile(base);
  const features = await featuresFor(cached, base);
  const names = features.featureColumns.map((c) => c.name);
  const root = freshArtifactRoot(cached, work);

  const specFile = path.join('pipelines', `.bench-xgboost-${process.pid}.yaml`);
  fs.writeFileSync(specFile, stringify({ extends: 'flights.yaml', trainer: TRAINER, execution: { python_task_queue: 'bench-python' } }));
  const trainer = loadSpecFile(specFile).spec.trainer; // with every default filled in, for the script too
  const run = spawnSync(PYTHON, [SCRIPT, cached.pathOf(features.train.uri), cached.pathOf(features.validate.uri), features.label, loaded.spec.extract.time_column, JSON.stringify({ ...trainer, categorical: categoricalIndices(features) }), ...names], { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
  if (run.status !== 0) throw new Error(`xgboost_script.py failed: ${run.stderr}`);
  const script = JSON.parse(run.stdout.trim().split('\n').pop() as string) as ScriptFit;

  try {
    const ours = await withPythonBench(PORT, root, ({ train }) => train(specFile, 'bench-xgboost'));
    const aucGap = binaryMetrics(ours.result.metrics).auc - script.auc;
    const fitRatio = ours.seconds / (script.load_seconds + script.fit_seconds);
    const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
    console.log(`\nXGBoost benchmark: ${TRAINER.trees} trees at most, depth ${TRAINER.max_depth}, learning rate ${TRAINER.learning_rate}; ${features.train.rows} training rows × ${names.length} features`);
    console.log(`plain script (same holdout): AUC ${script.auc.toFixed(4)}  ${script.iterations} rounds  load ${script.load_seconds.toFixed(1)} s + fit ${script.fit_seconds.toFixed(1)} s`);
    console.log(`sluice train step:           AUC ${binaryMetrics(ours.result.metrics).auc.toFixed(4)}  ${ours.result.steps.find((s) => s.name === 'train')?.detail}  ${ours.seconds.toFixed(1)} s scheduled to completed`);
    console.log(`\nAUC, sluice − script: ${aucGap >= 0 ? '+' : ''}${aucGap.toFixed(4)}  (target ≥ −0.002: ${met(aucGap >= -0.002)})`);
    console.log(`fit time, sluice/script: ${fitRatio.toFixed(2)}×  (target ≤ 1.15×: ${met(fitRatio <= 1.15)})`);
  } finally {
    fs.rmSync(specFile, { force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
