import type { Client } from '@temporalio/client';
import type { ModelVersion } from '../contracts/registry';
import type { ArtifactStore, ColumnInfo } from './artifacts';
import { importExternalModel } from './external-model';
import { registerVersion } from './registry';

export interface ExternalModelRequest {
  /** The pipeline (and registry) name the model is for. */
  model: string;
  /** The ONNX file. */
  file: string;
  /** Input schema: the feature columns of the pipeline's features.sql it reads, in input order, with types. */
  features: ColumnInfo[];
  description?: string;
}

/**
 * Registers a model trained elsewhere as a new version of `model`: the file is imported into the
 * artifact store (checked to load and to score rows of its schema) and recorded with origin `external`.
 * It can then be promoted, or pinned with `modelVersion`, like a trained one.
 */
export async function registerExternalModel(client: Client, registryTaskQueue: string, store: ArtifactStore, request: ExternalModelRequest): Promise<ModelVersion> {
  const imported = await importExternalModel(store, request.file, request.features);
  return registerVersion(client, registryTaskQueue, request.model, {
    trainingWorkflowId: 'external',
    trainingRunId: 'external',
    specHash: '',
    dataFingerprints: { extract: '', features: '' },
    artifactUri: imported.uri,
    modelFingerprint: imported.fingerprint,
    featureNames: imported.featureNames,
    featureTypes: imported.featureTypes,
    origin: 'external',
    description: request.description,
    trainingWindow: 'external',
  });
}
