import type { ArtifactStore } from '../../storage/artifact-store';
import { metered } from '../../cost/meter';
import { columnMoments } from '../../features/feature-matrix';
import { holdoutSplit } from '../holdout';
import { specError } from '../../../contracts/errors';
import { chunkSums, type ChunkSumsRequest } from './streaming/chunk-sums';
import { planChunks, type RowChunk } from './streaming/chunks';
import { logisticFingerprint, writeLogisticModel } from './logistic-model';
import { designColumns, logisticDesign } from './design';
import { readDictionary } from '../../features/categories';
import type { LogisticParams } from './params';
import { chunkTotals, type ChunkSums, type NewtonProblem, type LogisticOptions, type TrainerResult } from '../../../contracts/newton';
import type { StepCost } from '../../../contracts/costs';
import type { FeatureSet, ModelArtifact } from '../../../contracts/artifacts';
import type { LoadedSpec } from '../../../contracts/spec';

/**
 * How a data-parallel fit of the logistic trainer goes: the problem's size and settings, the chunks of
 * the fit and holdout rows (a few numbers each), and the columns with their standardization. Small:
 * the workflow hands it to every chunk activity.
 */
export interface LogisticFitPlan {
  fingerprint: string;
  trainUri: string;
  problem: NewtonProblem;
  positives: number;
  fitChunks: RowChunk[];
  holdoutChunks: RowChunk[];
  columns: Omit<ChunkSumsRequest, 'theta' | 'trials' | 'batchRows'>;
  /** The model, when an earlier run already trained it from the same features and settings. */
  existing?: ModelArtifact;
}

export interface PlanFitInput {
  loaded: LoadedSpec;
  features: FeatureSet;
}

/**
 * Plans a data-parallel fit: the features' moments, the holdout split and the chunks of
 * `trainer.chunk_rows` rows; or finds the model already trained (content-addressed, like the train step).
 */
export async function planLogisticFit(store: ArtifactStore, { loaded, features }: PlanFitInput): Promise<LogisticFitPlan> {
  const { spec } = loaded;
  const trainer = spec.trainer as LogisticParams;
  if (trainer.type !== 'logistic_regression' || trainer.chunk_rows === undefined) throw specError('trainer.chunk_rows: a data-parallel fit needs a logistic_regression trainer with chunk_rows');
  const fingerprint = logisticFingerprint(features, trainer);
  const existing = await store.find<ModelArtifact>('models', fingerprint);
  const design = designColumns(features, logisticDesign(features, trainer.one_hot_top));
  const file = await store.fetch(features.train.uri);
  const { mean, std } = await columnMoments(file, design.features, design.expressions);
  const split = await holdoutSplit(file, spec.extract.time_column, trainer.holdout, features.train.columns.map((c) => c.name));
  const fitChunks = await planChunks(file, split.fit, trainer.chunk_rows, features.label);
  const holdoutChunks = await planChunks(file, split.holdout, trainer.chunk_rows);
  const fit = chunkTotals(fitChunks);
  const options: LogisticOptions = { l2: trainer.l2, maxIterations: trainer.max_iterations, tolerance: trainer.tolerance, patience: trainer.patience };
  return {
    fingerprint,
    trainUri: features.train.uri,
    problem: { width: design.features.length + 1, fitRows: fit.rows, holdoutRows: chunkTotals(holdoutChunks).rows, options },
    positives: fit.positives,
    fitChunks,
    holdoutChunks,
    columns: { ...design, label: features.label, center: mean, scale: std },
    ...(existing ? { existing } : {}),
  };
}

export interface ChunkSumsInput {
  trainUri: string;
  chunk: RowChunk;
  request: ChunkSumsRequest;
}

/** One chunk's sums (at a theta, or the losses at the line search's candidates), read from the feature set through this worker's cache. */
export async function logisticChunkSums(store: ArtifactStore, input: ChunkSumsInput): Promise<{ sums: ChunkSums; cost: StepCost }> {
  const file = await store.fetch(input.trainUri);
  return metered(async (meter) => {
    const sums = await chunkSums(file, input.chunk, input.request);
    meter.rowsIn = sums.rows;
    return { sums };
  });
}

export interface ExportFitInput {
  loaded: LoadedSpec;
  features: FeatureSet;
  plan: LogisticFitPlan;
  result: TrainerResult;
}

/** Writes the data-parallel fit's parameters as the model (the same ONNX file the train step writes). */
export async function exportLogisticFit(store: ArtifactStore, { loaded, features, plan, result }: ExportFitInput) {
  return metered(async (meter) => {
    const trainer = loaded.spec.trainer as LogisticParams;
    const inputs = { loaded, features, fingerprint: plan.fingerprint, design: logisticDesign(features, trainer.one_hot_top), mean: plan.columns.center, std: plan.columns.scale, categories: await readDictionary(store, features) };
    const output = await store.reuseOrBuild('models', plan.fingerprint, async (staging) => writeLogisticModel(staging, inputs, result));
    meter.rowsIn = plan.problem.fitRows + plan.problem.holdoutRows;
    meter.bytesOut = output.value.bytes;
    return { model: output.value, reused: output.reused };
  });
}
