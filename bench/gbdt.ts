/**
 * Benchmark: gradient-boosted trees through Sluice against LightGBM alone, in one run.
 *  1. Validation AUC and fit time of the train step (the Python worker's activity, scheduled to completed:
 *     Temporal, heartbeats, checkpoints and the ONNX export included) against a plain LightGBM script on
 *     the same feature files with the same settings and the same early-stopping holdout.
 *  2. Batch-scoring throughput of the tree model on all 3M rows (batchInference, to Parquet), with the model
 *     compiled to native code and with ONNX Runtime, against ONNX Runtime alone on in-memory tensors of the same
 *     model and LightGBM's own `predict` on the same rows (2 threads each).
 *     Also against the Python peer a performance-minded user would write: DuckDB's features, lleaves (LightGBM
 *     compiled with LLVM), Parquet by day.
 *  3. Exactness over every row: the largest difference from LightGBM's predictions of ONNX Runtime's and of the
 *     compiled library's scores.
 * For information: `refit: true` against the script fitting every training row.
 * With `--big`, only items 2 and 3, for a model the size AutoML picks on these features (FLAML's best had 1,147
 * trees × 665 leaves): trained through Sluice with that many rounds and leaves, scored once per engine (the
 * compiled path twice: its first run builds the library).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { stringify } from 'yaml';
import { ArtifactStore } from '../activities/storage/artifact-store';
import { loadSpecFile } from '../activities/spec/loader';
import { batchInference } from '../workflows/batch-inference';
import { inMemoryFeatures, scorerAlone } from './in-memory-features';
import { ModelRunner } from '../activities/inference/model-runner';
import { openScorer } from '../activities/inference/scorer';
import { freshArtifactRoot, withPythonBench } from './python-bench';
import { categoricalIndices, featuresFor, PYTHON } from './reference';
import { fastestPeer } from './scoring-peer';
import { binaryMetrics } from '../contracts/metric-values';
import type { FeatureSet } from '../contracts/artifacts';
import type { LoadedSpec } from '../contracts/spec';

const FROM = '2001-01-01';
const TO = '2001-07-01';
const PORT = 7249;
const SCRIPT = path.resolve('bench', 'peers', 'lightgbm_script.py');
const BIG = process.argv.includes('--big');
/** The big model's settings: FLAML's best size; a rate low enough, and a patience long enough, that every round is kept. */
const BIG_TRAINER = { trees: 1147, leaves: 665, learning_rate: 0.02, early_stopping_rounds: 1147 };

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

/** batchInference of the window with a pinned model version, `runs` times per engine (compiled trees, then ONNX Runtime). */
async function scoringRuns(client: Client, spec: string, modelVersion: number, runs: { compiled: number; onnxRuntime: number }) {
  // The worker runs in this process, so the switch between compiled trees and ONNX Runtime is this process's.
  const scoring = async (engine: 'on' | 'off', count: number) => {
    process.env.SLUICE_COMPILED_TREES = engine;
    const seconds: number[] = [];
    let rows = 0;
    for (let r = 0; r < count; r++) {
      const t = performance.now();
      const scored = await client.workflow.execute(batchInference, { taskQueue: 'bench', workflowId: `bench-gbdt-infer-v${modelVersion}-${engine}-${r}`, args: [{ spec, from: FROM, to: TO, modelVersion }] });
      seconds.push((performance.now() - t) / 1000);
      rows = scored.rows;
      const expected = engine === 'on' ? 'compiled-trees' : 'onnxruntime';
      if (scored.scoring?.engines.join() !== expected) throw new Error(`batchInference scored with ${scored.scoring?.engines.join()}, expected ${expected}: ${scored.scoring?.warnings?.join('; ')}`);
    }
    delete process.env.SLUICE_COMPILED_TREES;
    // The first compiled run builds the library (the cache is empty); the best run finds it built.
    return { first: seconds[0], best: Math.min(...seconds), rows };
  };
  const compiled = await scoring('on', runs.compiled);
  const onnxRuntime = await scoring('off', runs.onnxRuntime);
  return { compiled, onnxRuntime, rows: compiled.rows };
}

interface Scored {
  compiled: { first: number; best: number };
  onnxRuntime: { best: number };
  rows: number;
}

/**
 * The same rows scored outside Sluice — ONNX Runtime and the compiled library alone on in-memory tensors,
 * LightGBM's own predict, the lleaves peer — and the largest difference of each Sluice path from LightGBM; printed
 * against Sluice's runs.
 */
async function compareScoring(modelFile: string, ours: Scored, x: Float32Array, context: { root: string; work: string; cached: ArtifactStore; loaded: LoadedSpec; features: FeatureSet; passes: number }) {
  const { rows } = ours;
  const width = context.features.featureColumns.length;
  const runner = ModelRunner.open(modelFile, modelFile, width);
  const ortAlone = scorerAlone(runner, x, rows, context.passes);
  runner.close();
  const library = (await openScorer(modelFile, modelFile, width, context.root)).scorer;
  if (library.engine !== 'compiled-trees') throw new Error('the compiled library did not load');
  const compiledAlone = scorerAlone(library, x, rows, context.passes);
  library.close();
  const rowsFile = path.join(context.work, 'rows.f32');
  const predictionsFile = path.join(context.work, 'lightgbm.f64');
  fs.writeFileSync(rowsFile, x.subarray(0, rows * width));
  const modelText = path.join(path.dirname(modelFile), 'lightgbm.txt');
  const lightgbm = python<{ rows: number; seconds: number }>(['predict', modelText, rowsFile, String(width), '2', predictionsFile]);
  const predictions = new Float64Array(fs.readFileSync(predictionsFile).buffer.slice(0));
  const largest = (scores: Float32Array) => scores.reduce((m, v, i) => Math.max(m, Math.abs(v - predictions[i])), 0);
  const [ortError, compiledError] = [largest(ortAlone.scores), largest(compiledAlone.scores)];
  // The peer a performance-minded user would write: DuckDB's features, lleaves' compiled trees, Parquet by day.
  const lleaves = { modelText, cache: path.join(context.work, `lleaves-${Date.now()}.so`), threads: 2 };
  const peerJob = { store: context.cached, loaded: context.loaded, features: context.features, window: { from: FROM, to: TO }, model: modelFile, lleaves, work: context.work };
  const [lleavesPeer, lleavesSameEngine] = [fastestPeer(peerJob, 'pypi'), fastestPeer(peerJob, 'node')];
  if (lleavesPeer.rows !== rows) throw new Error(`the lleaves peer scored ${lleavesPeer.rows} rows, expected ${rows}`);

  const ortSeconds = ortAlone.seconds;
  const rate = (s: number) => `${(rows / s / 1e6).toFixed(2)} M rows/s`;
  const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const { compiled, onnxRuntime } = ours;
  console.log(`  sluice batchInference, compiled trees    ${compiled.best.toFixed(2)} s (${rate(compiled.best)}); the first run, building the library: ${compiled.first.toFixed(2)} s`);
  console.log(`  sluice batchInference, ONNX Runtime      ${onnxRuntime.best.toFixed(2)} s (${rate(onnxRuntime.best)})`);
  console.log(`  ONNX Runtime alone, in-memory tensors    ${ortSeconds.toFixed(2)} s (${rate(ortSeconds)})`);
  console.log(`  compiled trees alone, one thread         ${compiledAlone.seconds.toFixed(2)} s (${rate(compiledAlone.seconds)})`);
  console.log(`  LightGBM predict, 2 threads              ${lightgbm.seconds.toFixed(2)} s (${rate(lightgbm.seconds)})`);
  console.log(`  Python peer, duckdb ${lleavesPeer.duckdb} + lleaves (${lleavesPeer.mode}) ${lleavesPeer.seconds.toFixed(2)} s (${rate(lleavesPeer.seconds)}; scoring ${lleavesPeer.score_seconds.toFixed(2)} s of it); on duckdb ${lleavesSameEngine.duckdb} like ours: ${lleavesSameEngine.seconds.toFixed(2)} s`);
  console.log(`exactness over all ${rows} rows, largest |score − LightGBM predict|: ONNX Runtime ${ortError.toExponential(2)}, compiled trees ${compiledError.toExponential(2)}  (target ≤ 1e-6: ${met(Math.max(ortError, compiledError) <= 1e-6)})`);
  const ortVsAlone = ortSeconds / onnxRuntime.best;
  const compiledVsAlone = ortSeconds / compiled.best;
  const compiledVsLightgbm = lightgbm.seconds / compiled.best;
  console.log(`tree scoring throughput, sluice with ONNX Runtime / ONNX Runtime alone: ${ortVsAlone.toFixed(2)}×  (target ≥ 1.0×: ${met(ortVsAlone >= 1)})`);
  console.log(`tree scoring throughput, sluice with compiled trees / ONNX Runtime alone: ${compiledVsAlone.toFixed(2)}×  (target ≥ 2.0×: ${met(compiledVsAlone >= 2)})`);
  console.log(`tree scoring throughput, sluice with compiled trees / LightGBM predict: ${compiledVsLightgbm.toFixed(2)}×  (target ≥ 2.0×: ${met(compiledVsLightgbm >= 2)})`);
  console.log(`tree scoring throughput, sluice with compiled trees / Python peer with lleaves: ${(lleavesPeer.seconds / compiled.best).toFixed(2)}×  (target ≥ 1.0×: ${met(lleavesPeer.seconds >= compiled.best)}); same DuckDB engine: ${(lleavesSameEngine.seconds / compiled.best).toFixed(2)}×`);
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

  const benchSpec = (name: string, settings: Record<string, unknown>) => {
    const file = path.join('pipelines', `.bench-${name}-${process.pid}.yaml`);
    const spec = {
      extends: 'flights.yaml',
      trainer: { ...trainer, ...settings },
      inference: { ...loaded.spec.inference, sink: { type: 'parquet', path: path.join(work, `sink-${name}`) } },
      execution: { python_task_queue: 'bench-python' },
    };
    fs.writeFileSync(file, stringify(spec));
    return file;
  };
  const specs = BIG ? [benchSpec('gbdt-big', BIG_TRAINER)] : [benchSpec('gbdt', { refit: false }), benchSpec('gbdt-refit', { refit: true })];
  try {
    const { x, rows: inMemory } = await inMemoryFeatures(cached, loaded, features, { from: FROM, to: TO });
    const context = { root, work, cached, loaded, features, passes: BIG ? 1 : 3 };
    if (BIG) {
      const measured = await withPythonBench(PORT, root, async ({ client, train }) => {
        const ours = await train(specs[0], 'bench-gbdt-big');
        return { ours, scored: await scoringRuns(client, specs[0], ours.result.modelVersion, { compiled: 2, onnxRuntime: 1 }) };
      });
      const { ours, scored } = measured;
      if (inMemory !== scored.rows) throw new Error(`batchInference scored ${scored.rows} rows, the in-memory features have ${inMemory}`);
      console.log(`\nGBDT benchmark, big model: LightGBM ${BIG_TRAINER.trees} trees, ${BIG_TRAINER.leaves} leaves, learning rate ${BIG_TRAINER.learning_rate}; AUC ${binaryMetrics(ours.result.metrics).auc.toFixed(4)}, trained in ${ours.seconds.toFixed(1)} s (${ours.result.steps.find((s) => s.name === 'train')?.detail})`);
      console.log(`scoring ${scored.rows} rows (the compiled path twice, the rest once):`);
      await compareScoring(store.pathOf(ours.result.modelUri), scored, x, context);
      return;
    }
    const settings = (allRows: boolean) => JSON.stringify({ ...trainer, all_rows: allRows, categorical: categoricalIndices(features) });
    const fitArgs = (allRows: boolean) => ['fit', cached.pathOf(features.train.uri), cached.pathOf(features.validate.uri), features.label, loaded.spec.extract.time_column, settings(allRows), ...names];
    const script = python<ScriptFit>(fitArgs(false));
    const scriptAllRows = python<ScriptFit>(fitArgs(true));
    // Sluice end to end: a dev server, a TypeScript worker in this process, the Python worker as a child.
    const measured = await withPythonBench(PORT, root, async ({ client, train }) => {
      const ours = await train(specs[0], 'bench-gbdt');
      // Scores with the plain model: the one the fit-time and AUC comparisons are about.
      const scored = await scoringRuns(client, specs[0], ours.result.modelVersion, { compiled: 2, onnxRuntime: 2 });
      const refit = await train(specs[1], 'bench-gbdt-refit');
      return { ours, refit, scored };
    });
    const { ours, refit, scored } = measured;
    if (inMemory !== scored.rows) throw new Error(`batchInference scored ${scored.rows} rows, the in-memory features have ${inMemory}`);
    const aucGap = binaryMetrics(ours.result.metrics).auc - script.auc;
    const fitRatio = ours.seconds / (script.load_seconds + script.fit_seconds);
    const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
    console.log(`\nGBDT benchmark: LightGBM ${trainer.trees} trees, ${trainer.leaves} leaves, learning rate ${trainer.learning_rate}; ${features.train.rows} training rows × ${names.length} features`);
    console.log(`plain script (same holdout):  AUC ${script.auc.toFixed(4)}  ${script.iterations} rounds  load ${script.load_seconds.toFixed(1)} s + fit ${script.fit_seconds.toFixed(1)} s`);
    console.log(`sluice train step:            AUC ${binaryMetrics(ours.result.metrics).auc.toFixed(4)}  ${ours.result.steps.find((s) => s.name === 'train')?.detail}  ${ours.seconds.toFixed(1)} s scheduled to completed`);
    console.log(`plain script, every row:      AUC ${scriptAllRows.auc.toFixed(4)}  ${scriptAllRows.iterations} rounds  fit ${scriptAllRows.fit_seconds.toFixed(1)} s`);
    console.log(`sluice with refit: true:      AUC ${binaryMetrics(refit.result.metrics).auc.toFixed(4)}  ${refit.result.steps.find((s) => s.name === 'train')?.detail}  ${refit.seconds.toFixed(1)} s`);
    console.log(`AUC, sluice − script: ${aucGap >= 0 ? '+' : ''}${aucGap.toFixed(4)}  (target ≥ −0.002: ${met(aucGap >= -0.002)})`);
    console.log(`fit time, sluice/script: ${fitRatio.toFixed(2)}×  (target ≤ 1.15×: ${met(fitRatio <= 1.15)})`);
    console.log(`scoring ${scored.rows} rows, tree model (best of 2 runs each):`);
    await compareScoring(store.pathOf(ours.result.modelUri), scored, x, context);
  } finally {
    for (const file of specs) fs.rmSync(file, { force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
