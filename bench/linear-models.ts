/**
 * Benchmark: the linear trainers against scikit-learn on the same design matrices, side by side in one run.
 * - linear_regression (ridge, closed form in ONNX Runtime) against `Ridge`, on flights-delay.yaml's features
 *   (2.5M rows). Target: validation RMSE within 1e-4 relative, fit time ≤ 1.0×.
 * - softmax_regression (L-BFGS in ONNX Runtime) against multinomial `LogisticRegression` (lbfgs), on a four-class
 *   twin of flights.yaml: how late a flight leaves (0: on time or early, 1: up to 15 minutes, 2: up to an hour,
 *   3: later). Target: validation log loss within 0.002, fit time ≤ 1.0×.
 * Both fit on every training row with the same penalty (Ridge `alpha` = l2 × rows, `C` = 1 / (l2 × rows)).
 *   npm run bench
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { ArtifactStore } from '../activities/storage/artifact-store';
import { columnMoments, readFeatureMatrix, type FeatureMatrix } from '../activities/features/feature-matrix';
import { designColumns, logisticDesign } from '../activities/train/logistic/design';
import { solveRidge } from '../activities/train/linear/linear-model';
import { trainSoftmax } from '../activities/train/softmax/softmax-trainer';
import { params } from '../activities/train/softmax/params';
import { softmaxLossGraph } from '../activities/train/softmax/softmax-graphs';
import type { FeatureSet } from '../contracts/artifacts';
import { DELAY_CLASS, featuresFor, PYTHON } from './reference';
import * as ort from 'onnxruntime-node';

const REPEATS = 3;
const L2 = 1e-4;

interface PeerResult {
  metric: number;
  load_seconds: number;
  fit_seconds: number;
  iterations: number;
  rows: number;
}

/** The design matrices of a feature set's train and validation files, as the linear trainers read them. */
async function matrices(store: ArtifactStore, features: FeatureSet) {
  const columns = designColumns(features, logisticDesign(features));
  const { mean, std } = await columnMoments(store.pathOf(features.train.uri), columns.features, columns.expressions);
  const options = { ...columns, label: features.label, center: mean, scale: std, bias: true };
  return { columns, train: await readFeatureMatrix(store.pathOf(features.train.uri), options), validation: await readFeatureMatrix(store.pathOf(features.validate.uri), options) };
}

function peer(kind: 'ridge' | 'softmax', store: ArtifactStore, features: FeatureSet): PeerResult {
  const design = logisticDesign(features);
  const { features: names } = designColumns(features, design);
  const args = [path.join(__dirname, 'peers', 'sklearn_linear.py'), kind, store.pathOf(features.train.uri), store.pathOf(features.validate.uri), features.label, JSON.stringify(design.map((d, i) => [names[i], d.sql])), String(L2)];
  const runs = Array.from({ length: REPEATS }, () => {
    const run = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
    if (run.status !== 0) throw new Error(`scikit-learn reference failed: ${run.stderr || run.error}`);
    return JSON.parse(run.stdout.trim().split('\n').pop() as string) as PeerResult;
  });
  return runs.reduce((best, r) => (r.fit_seconds < best.fit_seconds ? r : best));
}

/** The best of REPEATS wall times of `fit`, and its last result. */
async function timed<T>(fit: () => Promise<T>): Promise<{ seconds: number; result: T }> {
  let seconds = Infinity;
  let result: T | undefined;
  for (let r = 0; r < REPEATS; r++) {
    const started = performance.now();
    result = await fit();
    seconds = Math.min(seconds, (performance.now() - started) / 1000);
  }
  return { seconds, result: result as T };
}

function rmse(m: FeatureMatrix, theta: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < m.rows; i++) {
    let p = 0;
    for (let j = 0; j < m.width; j++) p += m.x[i * m.width + j] * theta[j];
    total += (p - (m.y as Float32Array)[i]) ** 2;
  }
  return Math.sqrt(total / m.rows);
}

async function logLoss(m: FeatureMatrix, theta: number[], classes: number): Promise<number> {
  const session = await ort.InferenceSession.create(softmaxLossGraph(m.width, classes));
  const oneHot = new Float32Array(m.rows * classes);
  for (let i = 0; i < m.rows; i++) oneHot[i * classes + (m.y as Float32Array)[i]] = 1;
  const out = await session.run({ x: new ort.Tensor('float32', m.x, [m.rows, m.width]), y: new ort.Tensor('float32', oneHot, [m.rows, classes]), theta: new ort.Tensor('float32', Float32Array.from(theta), [m.width, classes]) });
  await session.release();
  return Number(out.loss.data[0]) / m.rows;
}

function report(title: string, metric: string, ours: { value: number; seconds: number; iterations: number }, theirs: PeerResult, within: (a: number, b: number) => [string, boolean]): void {
  const row = (name: string, value: number, fit: number, its: number) => `${name.padEnd(44)} ${value.toFixed(5).padStart(10)} ${fit.toFixed(3).padStart(9)} ${String(its).padStart(6)}`;
  console.log(`\n${title}; best of ${REPEATS}`);
  console.log(`${'trainer'.padEnd(44)} ${metric.padStart(10)} ${'fit s'.padStart(9)} ${'iters'.padStart(6)}`);
  console.log(row('sluice', ours.value, ours.seconds, ours.iterations));
  console.log(row('scikit-learn', theirs.metric, theirs.fit_seconds, theirs.iterations));
  const [gap, met] = within(ours.value, theirs.metric);
  const ratio = ours.seconds / theirs.fit_seconds;
  console.log(`${gap}: ${met ? 'met' : 'MISSED'}`);
  console.log(`fit time ratio ours/sklearn: ${ratio.toFixed(2)}  target ≤ 1.00: ${ratio <= 1 ? 'met' : 'MISSED'}`);
}

async function main(): Promise<void> {
  const store = new ArtifactStore(path.resolve('.sluice', 'bench-artifacts'));

  const delay = await featuresFor(store, 'pipelines/flights-delay.yaml');
  const r = await matrices(store, delay);
  const ridge = await timed(() => solveRidge(r.train, L2));
  report(
    `Ridge: ${r.train.rows} train rows × ${r.columns.features.length} design columns (flights-delay.yaml), ${r.validation.rows} validation rows`,
    'val RMSE',
    { value: rmse(r.validation, ridge.result), seconds: ridge.seconds, iterations: 1 },
    peer('ridge', store, delay),
    (a, b) => [`RMSE relative gap |ours − sklearn| / sklearn ${(Math.abs(a - b) / b).toExponential(2)}  target ≤ 1e-4`, Math.abs(a - b) / b <= 1e-4],
  );

  const file = path.join('pipelines', `.bench-delay-class-${process.pid}.yaml`);
  fs.writeFileSync(file, stringify({ ...DELAY_CLASS, trainer: { type: 'softmax_regression', l2: L2 } }));
  const classes = await featuresFor(store, file).finally(() => fs.rmSync(file, { force: true }));
  const k = classes.classes?.length ?? 0;
  const s = await matrices(store, classes);
  // The trainer's defaults (tolerance 1e-4, as scikit-learn's tol), fitted to convergence on every row as the peer is.
  const t = params.parse({ type: 'softmax_regression', l2: L2 });
  const softmax = await timed(() => trainSoftmax(s.train, undefined, k, { l2: t.l2, maxIterations: t.max_iterations, tolerance: t.tolerance, patience: t.patience }));
  report(
    `Softmax: ${s.train.rows} train rows × ${s.columns.features.length} design columns × ${k} classes (flights.yaml's features, how late in four classes), ${s.validation.rows} validation rows`,
    'val log loss',
    { value: await logLoss(s.validation, softmax.result.theta, k), seconds: softmax.seconds, iterations: softmax.result.iterations },
    peer('softmax', store, classes),
    (a, b) => [`log loss gap ours − sklearn ${(a - b).toFixed(5)}  target ≤ 0.002`, a - b <= 0.002],
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
