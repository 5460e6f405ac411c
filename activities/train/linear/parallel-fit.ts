import type { ArtifactStore } from '../../storage/artifact-store';
import { metered } from '../../cost/meter';
import { columnMoments } from '../../features/feature-matrix';
import { readDictionary } from '../../features/categories';
import { specError } from '../../../contracts/errors';
import { planChunks, type RowChunk } from '../logistic/streaming/chunks';
import type { ChunkSumsRequest } from '../logistic/streaming/chunk-sums';
import { designColumns, logisticDesign } from '../logistic/design';
import { writeLogisticModel } from '../logistic/logistic-model';
import { closedFormResult, linearFingerprint, ridgeSolve } from './linear-model';
import type { LinearParams } from './params';
import type { NormalSums } from '../../../contracts/newton';
import type { FeatureSet, ModelArtifact } from '../../../contracts/artifacts';
import type { LoadedSpec } from '../../../contracts/spec';

/** A data-parallel ridge fit: the chunks of every training row and the design with its standardization. */
export interface LinearFitPlan {
  fingerprint: string;
  trainUri: string;
  rows: number;
  chunks: RowChunk[];
  columns: Omit<ChunkSumsRequest, 'theta' | 'trials' | 'batchRows' | 'normalEquations'>;
  /** The model, when an earlier run already trained it from the same features and settings. */
  existing?: ModelArtifact;
}

/** Plans the fit: the design's moments and chunks of `trainer.chunk_rows` training rows; or finds the model already trained. */
export async function planLinearFit(store: ArtifactStore, { loaded, features }: { loaded: LoadedSpec; features: FeatureSet }): Promise<LinearFitPlan> {
  const trainer = loaded.spec.trainer as LinearParams;
  if (trainer.type !== 'linear_regression' || trainer.chunk_rows === undefined) throw specError('trainer.chunk_rows: a data-parallel fit needs a linear_regression trainer with chunk_rows');
  const fingerprint = linearFingerprint(features, trainer);
  const existing = await store.find<ModelArtifact>('models', fingerprint);
  const design = designColumns(features, logisticDesign(features, trainer.one_hot_top));
  const file = await store.fetch(features.train.uri);
  const { mean, std } = await columnMoments(file, design.features, design.expressions);
  const chunks = await planChunks(file, undefined, trainer.chunk_rows);
  return {
    fingerprint,
    trainUri: features.train.uri,
    rows: chunks.reduce((s, c) => s + c.rows, 0),
    chunks,
    columns: { ...design, label: features.label, center: mean, scale: std },
    ...(existing ? { existing } : {}),
  };
}

/**
 * Solves the ridge system from the chunks' summed normal equations (added in chunk order by the workflow) and
 * writes the model: the same ONNX file the in-memory trainer writes, to float64 rounding of the sums.
 */
export async function exportLinearFit(store: ArtifactStore, { loaded, features, plan, sums }: { loaded: LoadedSpec; features: FeatureSet; plan: LinearFitPlan; sums: NormalSums }) {
  return metered(async (meter) => {
    const trainer = loaded.spec.trainer as LinearParams;
    const theta = ridgeSolve(sums.xtx, sums.xty, trainer.l2 * plan.rows);
    // θᵀXᵀXθ − 2θᵀXᵀy + Σy²: the training rows' squared error, from the sums.
    const k = theta.length;
    let quadratic = 0;
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) quadratic += theta[i] * sums.xtx[i * k + j] * theta[j];
    const cross = theta.reduce((s, t, i) => s + t * sums.xty[i], 0);
    const result = closedFormResult(theta, Math.max(0, quadratic - 2 * cross + sums.yy) / plan.rows);
    const inputs = { loaded, features, fingerprint: plan.fingerprint, design: logisticDesign(features, trainer.one_hot_top), mean: plan.columns.center, std: plan.columns.scale, categories: await readDictionary(store, features), output: 'prediction' as const };
    const output = await store.reuseOrBuild('models', plan.fingerprint, async (staging) => writeLogisticModel(staging, inputs, result));
    meter.rowsIn = plan.rows;
    meter.bytesOut = output.value.bytes;
    return { model: output.value, reused: output.reused };
  });
}
