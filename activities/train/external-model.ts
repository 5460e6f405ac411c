import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import { type ArtifactStore, fingerprintOf } from '../storage/artifact-store';
import { closestFirst } from '../../contracts/closest-names';
import { metered } from '../cost/meter';
import { modelError } from '../../contracts/errors';
import { ModelRunner } from '../inference/model-runner';
import type { ColumnInfo, FeatureSet, ModelArtifact, ExternalModel } from '../../contracts/artifacts';
import type { LoadedSpec } from '../../contracts/spec';

/** Bumped when an imported model's stored form for the same inputs would change. */
const IMPORT_VERSION = 1;

export interface ImportInput {
  loaded: LoadedSpec;
  features: FeatureSet;
  model: ExternalModel;
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|INT|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|REAL|DOUBLE|DECIMAL.*|NUMERIC.*|BOOLEAN)$/i;

/** Copies an ONNX file into the artifact store, content-addressed by its bytes; returns its `artifact:` URI. */
export async function uploadModelFile(store: ArtifactStore, file: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw modelError(`${file}: cannot read the model (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const sha = createHash('sha256').update(bytes).digest('hex').slice(0, 32);
  const name = path.basename(file).replace(/[^\w.-]/g, '_');
  const { value } = await store.reuseOrBuild('uploads', sha, async (staging) => {
    fs.writeFileSync(staging.file(name), bytes);
    return staging.uriOf(name);
  });
  return value;
}

/**
 * Makes a model trained elsewhere a Sluice model of the pipeline: its input columns are matched to the feature
 * set's (see {@link ExternalModel.features}), ONNX Runtime must load it and score rows that wide to a
 * probability, and the stored copy carries the metadata contract of Sluice's own models (feature names and
 * types, pipeline, origin) so it is evaluated, gated, compared and scored like a trained one. Content-addressed
 * by its bytes and its input columns: the same file with another schema is another model.
 */
export async function importExternalModel(store: ArtifactStore, { loaded, features, model }: ImportInput) {
  return metered(async (meter) => {
    const bytes = fs.readFileSync(await store.fetch(model.uri));
    meter.bytesIn = bytes.length;
    let proto: onnx.ModelProto;
    try {
      proto = onnx.ModelProto.decode(bytes);
    } catch (err) {
      throw modelError(`${model.file}: not an ONNX model (${(err as Error).message.split('\n')[0]})`);
    }
    const columns = inputColumns(proto, model, features);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const fingerprint = fingerprintOf('external-model', IMPORT_VERSION, sha, JSON.stringify(columns.map((c) => c.name)));
    const output = await store.reuseOrBuild('models', fingerprint, async (staging): Promise<ModelArtifact> => {
      const names = columns.map((c) => c.name);
      const kept = proto.metadataProps.filter((p) => !p.key?.startsWith('sluice.'));
      proto.metadataProps = [
        ...kept,
        ...Object.entries({
          'sluice.pipeline': loaded.spec.name,
          'sluice.origin': 'external',
          'sluice.source_file': model.file,
          'sluice.source_sha256': sha,
          'sluice.feature_names': JSON.stringify(names),
          'sluice.feature_types': JSON.stringify(columns),
          'sluice.label': features.label,
          'sluice.features_fingerprint': features.fingerprint,
          ...(model.description ? { 'sluice.description': model.description } : {}),
        }).map(([key, value]) => onnx.StringStringEntryProto.create({ key, value })),
      ];
      const stored = onnx.ModelProto.encode(proto).finish();
      const file = staging.file('model.onnx');
      fs.writeFileSync(file, stored);
      checkScores(file, model.file, names.length);
      return {
        uri: staging.uriOf('model.onnx'),
        fingerprint,
        bytes: stored.length,
        featureNames: names,
        label: features.label,
        training: { iterations: 0, bestIteration: 0, trainLoss: 0, validationLoss: 0, stopReason: 'imported', history: [], resumedFrom: 0 },
      };
    });
    meter.bytesOut = output.value.bytes;
    return { model: output.value, featureTypes: columns, reused: output.reused };
  });
}

/** The feature columns (with the feature SQL's types) the model reads, in its input order; refuses what does not fit. */
function inputColumns(proto: onnx.ModelProto, model: ExternalModel, features: FeatureSet): ColumnInfo[] {
  const input = proto.graph?.input?.[0];
  const tensor = input?.type?.tensorType;
  if (!input || !tensor) throw modelError(`${model.file}: the model has no tensor input`);
  if ((proto.graph?.input?.length ?? 0) > 1) {
    throw modelError(`${model.file}: the model has ${proto.graph?.input?.length} inputs; Sluice feeds one float tensor [rows, features] (export it with a single input, e.g. skl2onnx's FloatTensorType([None, n]))`);
  }
  if (tensor.elemType !== onnx.TensorProto.DataType.FLOAT) {
    const type = onnx.TensorProto.DataType[tensor.elemType ?? 0] ?? String(tensor.elemType);
    throw modelError(`${model.file}: the model's input ${input.name} is ${type}; Sluice feeds float32 rows (every feature is cast to FLOAT): export the model with a float input`);
  }
  const width = Number(tensor.shape?.dim?.[1]?.dimValue ?? 0) || undefined;
  const known = features.featureColumns;
  const names = model.features?.map((f) => f.name) ?? namesInMetadata(proto) ?? (width === known.length ? known.map((c) => c.name) : undefined);
  if (!names) {
    throw modelError(
      `${model.file}: the model reads ${width ?? 'an unknown number of'} features and carries no names, and features.sql makes ${known.length} (${known.map((c) => c.name).join(', ')}): ` +
        'give the names in the model\'s input order with --schema ({"features": [{"name": …}, …]})',
    );
  }
  if (width !== undefined && width !== names.length) throw modelError(`${model.file}: the model's input is ${width} features wide, but its schema names ${names.length}`);
  const columns = names.map((name, i) => {
    const column = known.find((c) => c.name === name);
    if (!column) {
      throw modelError(`${model.file}: feature \`${name}\` is not a feature column of features.sql; its feature columns, closest first: ${closestFirst(name, known.map((c) => c.name)).join(', ')}`);
    }
    const declared = model.features?.[i]?.type;
    if (declared !== undefined && !NUMERIC.test(declared)) {
      throw modelError(`${model.file}: feature \`${name}\` is declared ${declared}; a model reads numbers (every feature reaches it as float32): declare a numeric type, or cast the column in features.sql`);
    }
    return column;
  });
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw modelError(`${model.file}: feature \`${twice}\` is named twice in the schema`);
  return columns;
}

/** The input names a model carries in `sluice.feature_names`, if any. */
function namesInMetadata(proto: onnx.ModelProto): string[] | undefined {
  const value = proto.metadataProps.find((p) => p.key === 'sluice.feature_names')?.value;
  try {
    const names: unknown = value ? JSON.parse(value) : undefined;
    return Array.isArray(names) && names.every((n) => typeof n === 'string') ? names : undefined;
  } catch {
    return undefined;
  }
}

/** Refuses a model ONNX Runtime cannot load, or whose output for a row of `width` features is not a probability. */
function checkScores(file: string, name: string, width: number): void {
  const runner = ModelRunner.open(file, name, width);
  try {
    const probe = runner.score(new Float32Array(width), 1);
    if (probe.length !== 1 || !(probe[0] >= 0 && probe[0] <= 1)) throw modelError(`${name}: scoring one row gave ${Array.from(probe).join(', ')}, not a probability`);
  } catch (err) {
    if ((err as { type?: string }).type === 'SluiceModelError') throw err;
    throw modelError(`${name}: does not score rows of ${width} features (${(err as Error).message.split('\n')[0]})`);
  } finally {
    runner.close();
  }
}
