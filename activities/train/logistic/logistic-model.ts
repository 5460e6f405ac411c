import fs from 'node:fs';
import { type StagingArea, fingerprintOf, writeFileAtomically } from '../../storage/artifact-store';
import { metered } from '../../cost/meter';
import { readFeatureMatrix } from '../../features/feature-matrix';
import { holdoutSplit } from '../holdout';
import { trainLogistic } from './logistic-trainer';
import { scoringModel } from './logistic-graphs';
import type { DesignColumn } from './design';
import { standardizedDesign } from './standardized';
import { readDictionary, type CategoryDictionary } from '../../features/categories';
import { budgetExceeded, budgetOf, durationSeconds } from '../../../contracts/budget';
import type { TrainerResult } from '../../../contracts/newton';
import type { FeatureSet, ModelArtifact, TrainHeartbeat } from '../../../contracts/artifacts';
import type { LoadedSpec } from '../../../contracts/spec';
import type { TrainContext } from '../trainer';
import type { LogisticParams } from './params';

/** Bumped when the trainer's output for the same inputs would change. */
const TRAINER_VERSION = 4; // 3: categorical indicators scored by one lookup per input; 4: sluice.importance in the metadata

/**
 * Trains a logistic model in memory on the training split (early stopping on its last days, `holdoutSplit`) and
 * exports one self-contained ONNX file: standardization in the graph, lineage and metrics in metadata_props.
 * The output is content-addressed by the features and trainer settings, so an unchanged rerun reuses it.
 */
export async function trainLogisticModel({ store, loaded, features, params: trainer, hooks }: TrainContext<LogisticParams>) {
  const { spec } = loaded;
  const budget = budgetOf(spec)?.max_training_time;
  const started = performance.now();
  const fingerprint = logisticFingerprint(features, trainer);
  // The newest checkpoint: on disk (written every iteration) or in the last heartbeat, whichever got further.
  const checkpointUri = `artifact:checkpoints/${fingerprint}.json`;
  const checkpointFile = (await store.fetchIfPresent(checkpointUri)) ?? store.pathOf(checkpointUri);
  const candidates = [hooks.resume, readCheckpoint(checkpointFile)].filter((c): c is TrainHeartbeat => c?.fingerprint === fingerprint);
  const latest = candidates.sort((a, b) => b.iteration - a.iteration)[0];
  const spentBefore = latest?.spentSeconds ?? 0;
  const spent = () => spentBefore + (performance.now() - started) / 1000;
  return metered(async (meter) => {
    const output = await store.reuseOrBuild('models', fingerprint, async (staging): Promise<ModelArtifact> => {
      const { design, trainFile, mean, std, matrixOptions } = await standardizedDesign(store, features, trainer.one_hot_top, hooks.alive);
      const split = await holdoutSplit(trainFile, spec.extract.time_column, trainer.holdout, features.train.columns.map((c) => c.name));
      const train = await readFeatureMatrix(trainFile, { ...matrixOptions, where: split.fit });
      hooks.alive?.();
      const holdout = await readFeatureMatrix(trainFile, { ...matrixOptions, where: split.holdout });
      hooks.alive?.();
      meter.rowsIn = train.rows + holdout.rows;
      meter.bytesIn = features.train.bytes;
      const resume = latest?.checkpoint;
      const result = await trainLogistic(
        train,
        holdout,
        { l2: trainer.l2, maxIterations: trainer.max_iterations, tolerance: trainer.tolerance, patience: trainer.patience },
        resume,
        async (checkpoint) => {
          const seconds = spent();
          const beat = { fingerprint, iteration: checkpoint.iteration, maxIterations: trainer.max_iterations, checkpoint, spentSeconds: seconds };
          writeFileAtomically(checkpointFile, JSON.stringify(beat));
          await store.push(checkpointUri);
          hooks.onIteration?.(beat);
          if (budget !== undefined && seconds > durationSeconds(budget)) {
            throw budgetExceeded(`budget.max_training_time: training took ${seconds.toFixed(1)} s by iteration ${checkpoint.iteration}, over its budget of ${budget}; stopped, no model was registered`);
          }
        },
      );
      return writeLogisticModel(staging, { loaded, features, fingerprint, design, mean, std, categories: await readDictionary(store, features) }, result);
    });
    await store.remove(checkpointUri);
    meter.bytesOut = output.value.bytes;
    return { model: output.value, reused: output.reused };
  });
}

/** What a logistic model is exported with: its lineage, its design (the features, categories one-hot) and the design's standardization. */
export interface LogisticModelInputs {
  loaded: LoadedSpec;
  features: FeatureSet;
  fingerprint: string;
  design: DesignColumn[];
  mean: number[];
  std: number[];
  /** The categorical features' dictionary, stated in the model's metadata. */
  categories?: CategoryDictionary;
  /** What the model outputs: a logistic model's `probability` (the default), a linear regression's `prediction`. */
  output?: 'probability' | 'prediction';
  /** A softmax model's classes, in code order: θ is then [design + 1, classes] row-major, and the output `probabilities`. */
  classes?: string[];
}

/**
 * Writes the trained parameters as one self-contained ONNX file (standardization in the graph, lineage and metrics
 * in metadata_props) into `staging`: a logistic model, or with `output: 'prediction'` a linear regression (its
 * losses are then mean squared errors).
 */
export function writeLogisticModel(staging: StagingArea, inputs: LogisticModelInputs, result: TrainerResult): ModelArtifact {
  const { loaded, features, fingerprint, design, mean, std, categories, output, classes } = inputs;
  const loss = output === 'prediction' ? 'squared_error' : 'log_loss';
  const names = features.featureColumns.map((c) => c.name);
  const { spec } = loaded;
  const trainer = spec.trainer;
  const { theta, ...training } = result;
  const k = classes?.length ?? 1;
  const weights = theta.slice(0, design.length * k);
  const bytes = scoringModel({
    featureNames: names,
    design,
    mean,
    std,
    weights,
    intercept: classes ? theta.slice(design.length * k) : theta[design.length],
    output: classes ? 'probabilities' : output,
    metadata: {
      'sluice.pipeline': spec.name,
      'sluice.feature_names': JSON.stringify(names),
      'sluice.feature_types': JSON.stringify(features.featureColumns),
      'sluice.label': features.label,
      'sluice.training_window': `${spec.split.train.from}..${spec.split.train.to}`,
      'sluice.validation_window': `${spec.split.validate.from}..${spec.split.validate.to}`,
      'sluice.spec_hash': loaded.hash,
      'sluice.features_fingerprint': features.fingerprint,
      'sluice.trainer': JSON.stringify(trainer),
      'sluice.metrics': JSON.stringify({
        [`train_${loss}`]: training.trainLoss,
        [`validation_${loss}`]: training.validationLoss,
        iterations: training.iterations,
        best_iteration: training.bestIteration,
        stop_reason: training.stopReason,
      }),
      ...(categories ? { 'sluice.categories': JSON.stringify(categories) } : {}),
      ...(classes ? { 'sluice.classes': JSON.stringify(classes) } : {}),
      // The trainer's own importance: |standardized coefficient| per feature (a categorical one's indicators, and a softmax's classes, summed).
      'sluice.importance': JSON.stringify({ measure: 'coefficient', values: names.map((_, f) => weights.reduce((sum, w, i) => sum + (design[Math.floor(i / k)].input === f ? Math.abs(w) : 0), 0)) }),
    },
  });
  fs.writeFileSync(staging.file('model.onnx'), bytes);
  return { uri: staging.uriOf('model.onnx'), fingerprint, bytes: bytes.length, featureNames: names, label: features.label, training };
}

/** The model fingerprint of a logistic trainer's settings on a feature set: an unchanged rerun finds its model. */
export function logisticFingerprint(features: FeatureSet, trainer: LogisticParams): string {
  return fingerprintOf('model', TRAINER_VERSION, features.fingerprint, JSON.stringify(trainer));
}

/** A checkpoint an earlier attempt left on disk, or undefined. */
function readCheckpoint(file: string): TrainHeartbeat | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as TrainHeartbeat;
  } catch {
    return undefined;
  }
}

