import type { ArtifactStore } from '../../storage/artifact-store';
import { columnMoments, type ReadMatrixOptions } from '../../features/feature-matrix';
import { designColumns, logisticDesign, type DesignColumn } from './design';
import type { FeatureSet } from '../../../contracts/artifacts';

/** A feature set's training file, its design (categorical features one-hot) and the design's standardization. */
export interface StandardizedDesign {
  design: DesignColumn[];
  trainFile: string;
  mean: number[];
  std: number[];
  /** How to read it as a matrix: the design's columns standardized, the label, a trailing bias column. */
  matrixOptions: ReadMatrixOptions;
}

/**
 * What the linear trainers (logistic, ridge, softmax) read their matrices with: categorical features become
 * indicators of their `oneHotTop` most frequent categories, numeric ones stay, and each column's mean and
 * standard deviation over the training rows standardize it.
 */
export async function standardizedDesign(store: ArtifactStore, features: FeatureSet, oneHotTop: number | undefined, alive?: () => void): Promise<StandardizedDesign> {
  const design = logisticDesign(features, oneHotTop);
  const columns = designColumns(features, design);
  const trainFile = await store.fetch(features.train.uri);
  alive?.();
  const { mean, std } = await columnMoments(trainFile, columns.features, columns.expressions);
  alive?.();
  return { design, trainFile, mean, std, matrixOptions: { ...columns, label: features.label, center: mean, scale: std, bias: true } };
}
