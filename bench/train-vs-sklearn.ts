/**
 * Benchmark: our ONNX Runtime Newton trainer against scikit-learn's default lbfgs LogisticRegression,
 * side by side, on the same flights design matrix (2.5M rows: the numeric features and the indicators of the busiest
 * airports, flights.yaml's categorical features), in one run.
 * Target: reach scikit-learn's validation AUC (within 0.005) in no more fit wall time.
 *   npm run bench
 */
import path from 'node:path';
import { ArtifactStore } from '../activities/storage/artifact-store';
import { columnMoments, readFeatureMatrix } from '../activities/features/feature-matrix';
import type { LogisticParams } from '../activities/train/logistic/params';
import { trainLogistic } from '../activities/train/logistic/logistic-trainer';
import { classificationMetrics } from '../activities/evaluate/metrics';
import { loadSpecFile } from '../activities/spec/loader';
import { featuresFor, sklearnReference } from './reference';
import * as ort from 'onnxruntime-node';
import { forwardGraph } from '../activities/train/logistic/logistic-graphs';
import { designColumns, logisticDesign } from '../activities/train/logistic/design';

const REPEATS = 3;

async function main(): Promise<void> {
  const specFile = 'pipelines/flights.yaml';
  const spec = loadSpecFile(specFile).spec;
  if (spec.trainer.type !== 'logistic_regression') throw new Error('the bench needs a logistic_regression spec');
  const store = new ArtifactStore(path.resolve('.sluice', 'bench-artifacts'));
  const features = await featuresFor(store, specFile);
  const t = spec.trainer as LogisticParams;
  // The trainer's design: numeric features as they are, each categorical one as indicators of its busiest categories.
  const columns = designColumns(features, logisticDesign(features, t.one_hot_top));
  const names = columns.features;

  let loadSeconds = Infinity;
  let fitSeconds = Infinity;
  let auc = NaN;
  let iterations = 0;
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    const { mean, std } = await columnMoments(store.pathOf(features.train.uri), names, columns.expressions);
    const options = { ...columns, label: features.label, center: mean, scale: std, bias: true };
    const train = await readFeatureMatrix(store.pathOf(features.train.uri), options);
    const validation = await readFeatureMatrix(store.pathOf(features.validate.uri), options);
    const t1 = performance.now();
    const result = await trainLogistic(train, validation, { l2: t.l2, maxIterations: t.max_iterations, tolerance: t.tolerance, patience: t.patience });
    const t2 = performance.now();
    loadSeconds = Math.min(loadSeconds, (t1 - t0) / 1000);
    fitSeconds = Math.min(fitSeconds, (t2 - t1) / 1000);
    iterations = result.iterations;
    const forward = await ort.InferenceSession.create(forwardGraph(validation.width));
    const out = await forward.run({
      x: new ort.Tensor('float32', validation.x, [validation.rows, validation.width]),
      y: new ort.Tensor('float32', validation.y as Float32Array, [validation.rows, 1]),
      theta: new ort.Tensor('float32', Float32Array.from(result.theta), [validation.width, 1]),
    });
    auc = classificationMetrics(out.probability.data as Float32Array, validation.y as Float32Array).auc;
    await forward.release();
  }

  const peers = Array.from({ length: REPEATS }, () => sklearnReference(store, features, t.one_hot_top));
  const peer = peers.reduce((best, p) => (p.fit_seconds < best.fit_seconds ? p : best));

  const row = (name: string, a: number, fit: number, load: number, its: number) =>
    `${name.padEnd(34)} ${a.toFixed(5).padStart(9)} ${fit.toFixed(3).padStart(9)} ${load.toFixed(3).padStart(9)} ${String(its).padStart(6)}`;
  console.log(`\nTraining benchmark: ${features.train.rows} train rows × ${names.length} design columns (${features.featureColumns.length} features), ${features.validate.rows} validation rows; best of ${REPEATS}`);
  console.log(`${'trainer'.padEnd(34)} ${'val AUC'.padStart(9)} ${'fit s'.padStart(9)} ${'load s'.padStart(9)} ${'iters'.padStart(6)}`);
  console.log(row('sluice: Newton in ONNX Runtime', auc, fitSeconds, loadSeconds, iterations));
  console.log(row('scikit-learn LogisticRegression', peer.auc, peer.fit_seconds, peer.load_seconds, peer.iterations));
  const aucGap = peer.auc - auc;
  const ratio = fitSeconds / peer.fit_seconds;
  console.log(`\nAUC gap (sklearn − ours): ${aucGap.toFixed(5)}  target ≤ 0.005: ${aucGap <= 0.005 ? 'met' : 'MISSED'}`);
  console.log(`fit time ratio ours/sklearn: ${ratio.toFixed(2)}  target ≤ 1.00: ${ratio <= 1 ? 'met' : 'MISSED'}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
