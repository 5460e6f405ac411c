import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { ArtifactStore } from '../activities/storage/artifact-store';
import { extractWindow } from '../activities/extract/extract';
import { buildFeatures } from '../activities/features/features';
import { loadSpecFile } from '../activities/spec/loader';
import { designColumns, logisticDesign } from '../activities/train/logistic/design';
import type { FeatureSet } from '../contracts/artifacts';

const ROOT = path.resolve(__dirname, '..');
/** The project-local Python with scikit-learn (scripts/setup-python.sh makes it). */
export const PYTHON = path.join(ROOT, '.tools', 'venv', 'bin', 'python');

/**
 * The four-class twin of flights.yaml, a spec layer over it: how late a flight leaves (0: on time or early, 1: up to
 * 15 minutes, 2: up to an hour, 3: later). The label is an integer, so flights.yaml's statistics (sums and means of
 * the label) become each airport's, route's and hour's mean delay class.
 */
export const DELAY_CLASS = {
  extends: 'flights.yaml',
  name: 'flights-delay-class',
  task: 'multiclass',
  label: { name: 'delayed', sql: 'CASE WHEN delay <= 0 THEN 0 WHEN delay <= 15 THEN 1 WHEN delay <= 60 THEN 2 ELSE 3 END' },
  gates: {},
};

/** Runs a spec's extract and features steps outside Temporal (stored outputs are reused). */
export async function featuresFor(store: ArtifactStore, specFile: string): Promise<FeatureSet> {
  const loaded = loadSpecFile(specFile);
  const { extracted } = await extractWindow(store, { loaded, window: { from: loaded.spec.split.train.from, to: loaded.spec.split.validate.to } });
  return (await buildFeatures(store, { loaded, extracted })).features;
}

/** The positions of a feature set's categorical features among its features, as the plain-script peers take them. */
export function categoricalIndices(features: FeatureSet): number[] {
  const names = features.featureColumns.map((c) => c.name);
  return (features.categorical ?? []).map((c) => names.indexOf(c.name));
}

export interface SklearnResult {
  auc: number;
  log_loss: number;
  load_seconds: number;
  fit_seconds: number;
  iterations: number;
  rows: number;
  features: number;
}

/**
 * scikit-learn's LogisticRegression (lbfgs) on the same train/validation Parquet files as ours, and the same design
 * matrix: each categorical feature as the indicators of its most frequent categories (`one_hot_top`).
 */
export function sklearnReference(store: ArtifactStore, features: FeatureSet, oneHotTop?: number): SklearnResult {
  const design = logisticDesign(features, oneHotTop);
  const { features: names } = designColumns(features, design);
  const columns = design.map((d, i) => [names[i], d.sql]);
  const args = [
    path.join(ROOT, 'bench', 'peers', 'sklearn_logistic.py'),
    store.pathOf(features.train.uri),
    store.pathOf(features.validate.uri),
    features.label,
    JSON.stringify(columns),
  ];
  const run = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
  if (run.status !== 0) throw new Error(`scikit-learn reference failed (run \`bash scripts/setup-python.sh\`): ${run.stderr || run.error}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() as string) as SklearnResult;
}
