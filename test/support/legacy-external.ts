import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { ArtifactStore } from '../../activities/storage/artifact-store';
import { uploadModelFile } from '../../activities/train/external-model';
import { registerVersion } from '../../activities/registry/registry';
import type { ModelVersion } from '../../contracts/registry';
import type { ColumnInfo } from '../../contracts/artifacts';

/**
 * Registers an ONNX file as an external version the way registries held them before `sluice models register`
 * evaluated models: no feature set, so batch inference computes the statistics from the spec itself.
 */
export async function registerLegacyExternal(client: Client, registryQueue: string, store: ArtifactStore, model: string, file: string, features: ColumnInfo[]): Promise<ModelVersion> {
  const uri = await uploadModelFile(store, file);
  return registerVersion(client, registryQueue, model, {
    trainingWorkflowId: 'external',
    trainingRunId: 'external',
    specHash: '',
    dataFingerprints: { extract: '', features: '' },
    artifactUri: uri,
    modelFingerprint: `legacy-${path.basename(uri)}-${uri.split('/')[1]}`,
    featureNames: features.map((f) => f.name),
    featureTypes: features,
    origin: 'external',
    trainingWindow: 'external',
  });
}
