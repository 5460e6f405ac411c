import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ArtifactStore, ColumnInfo } from './artifacts';
import { modelError } from './errors';
import { ModelRunner } from './inference/model-runner';

/** A model trained elsewhere, copied into the artifact store and checked to score rows of its schema. */
export interface ImportedModel {
  uri: string;
  fingerprint: string;
  featureNames: string[];
  featureTypes: ColumnInfo[];
}

/**
 * Brings an ONNX model trained elsewhere into the artifact store, content-addressed by its bytes, after
 * checking that ONNX Runtime loads it and that it scores rows as wide as its declared input schema.
 */
export async function importExternalModel(store: ArtifactStore, file: string, features: ColumnInfo[]): Promise<ImportedModel> {
  if (features.length === 0) throw modelError(`${file}: the input schema lists no features`);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw modelError(`${file}: cannot read the model (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const fingerprint = createHash('sha256').update(bytes).digest('hex').slice(0, 32);
  const { value } = await store.reuseOrBuild('models', fingerprint, async (staging) => {
    fs.writeFileSync(staging.file('model.onnx'), bytes);
    const runner = ModelRunner.open(staging.file('model.onnx'), path.basename(file), features.length);
    try {
      const probe = runner.score(new Float32Array(features.length), 1);
      if (probe.length !== 1 || !(probe[0] >= 0 && probe[0] <= 1)) throw modelError(`${file}: scoring one row gave ${Array.from(probe).join(', ')}, not a probability`);
    } catch (err) {
      if ((err as { type?: string }).type === 'SluiceModelError') throw err;
      throw modelError(`${file}: does not score rows of ${features.length} features (${(err as Error).message.split('\n')[0]})`);
    } finally {
      runner.close();
    }
    return { uri: staging.uriOf('model.onnx'), fingerprint, featureNames: features.map((f) => f.name), featureTypes: features };
  });
  return value;
}
