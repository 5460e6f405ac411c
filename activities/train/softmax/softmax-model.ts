import fs from 'node:fs';
import { fingerprintOf, writeFileAtomically } from '../../storage/artifact-store';
import { metered } from '../../cost/meter';
import { readFeatureMatrix } from '../../features/feature-matrix';
import { readDictionary } from '../../features/categories';
import { holdoutSplit } from '../holdout';
import { standardizedDesign } from '../logistic/standardized';
import { writeLogisticModel } from '../logistic/logistic-model';
import { budgetExceeded, budgetOf, durationSeconds } from '../../../contracts/budget';
import { modelError } from '../../../contracts/errors';
import type { TrainContext } from '../trainer';
import type { SoftmaxParams } from './params';
import { trainSoftmax, type SoftmaxCheckpoint } from './softmax-trainer';

/** Bumped when the trainer's output for the same inputs would change. */
const TRAINER_VERSION = 1;

/**
 * Trains a multinomial logistic model in memory on the training split (early stopping on its last days, unless
 * `early_stopping: false`) and
 * exports one self-contained ONNX file like the logistic model's, its output `probabilities` per class. The
 * checkpoint (θ, the best θ and the L-BFGS memory) is written after every iteration and kept in the artifact
 * store, so a retried attempt, on any worker, continues where the last one got to.
 */
export async function trainSoftmaxModel({ store, loaded, features, params: trainer, hooks }: TrainContext<SoftmaxParams>) {
  const { spec } = loaded;
  const classes = features.classes?.map((c) => c.name);
  if (!classes) throw modelError('trainer.type: softmax_regression trains multiclass models; the feature set has no classes (set task: multiclass)');
  const budget = budgetOf(spec)?.max_training_time;
  const started = performance.now();
  const fingerprint = fingerprintOf('model', 'softmax_regression', TRAINER_VERSION, features.fingerprint, JSON.stringify(trainer));
  const checkpointUri = `artifact:checkpoints/${fingerprint}.json`;
  const checkpointFile = (await store.fetchIfPresent(checkpointUri)) ?? store.pathOf(checkpointUri);
  const saved = readCheckpoint(checkpointFile);
  const spentBefore = saved?.spentSeconds ?? 0;
  const spent = () => spentBefore + (performance.now() - started) / 1000;
  return metered(async (meter) => {
    const output = await store.reuseOrBuild('models', fingerprint, async (staging) => {
      const { design, trainFile, mean, std, matrixOptions } = await standardizedDesign(store, features, trainer.one_hot_top, hooks.alive);
      const split = trainer.early_stopping ? await holdoutSplit(trainFile, spec.extract.time_column, trainer.holdout, features.train.columns.map((c) => c.name)) : undefined;
      const train = await readFeatureMatrix(trainFile, { ...matrixOptions, ...(split ? { where: split.fit } : {}) });
      hooks.alive?.();
      const holdout = split && (await readFeatureMatrix(trainFile, { ...matrixOptions, where: split.holdout }));
      hooks.alive?.();
      meter.rowsIn = train.rows + (holdout?.rows ?? 0);
      meter.bytesIn = features.train.bytes;
      const options = { l2: trainer.l2, maxIterations: trainer.max_iterations, tolerance: trainer.tolerance, patience: trainer.patience };
      const result = await trainSoftmax(train, holdout, classes.length, options, saved?.checkpoint, async (checkpoint) => {
        const seconds = spent();
        writeFileAtomically(checkpointFile, JSON.stringify({ checkpoint, spentSeconds: seconds }));
        await store.push(checkpointUri);
        // The heartbeat carries the progress; the L-BFGS memory (ten pairs of θ's size) stays in the checkpoint file.
        const { memory: _memory, ...progress } = checkpoint;
        hooks.onIteration?.({ fingerprint, iteration: checkpoint.iteration, maxIterations: trainer.max_iterations, checkpoint: progress, spentSeconds: seconds });
        if (budget !== undefined && seconds > durationSeconds(budget)) {
          throw budgetExceeded(`budget.max_training_time: training took ${seconds.toFixed(1)} s by iteration ${checkpoint.iteration}, over its budget of ${budget}; stopped, no model was registered`);
        }
      });
      return writeLogisticModel(staging, { loaded, features, fingerprint, design, mean, std, categories: await readDictionary(store, features), classes }, result);
    });
    await store.remove(checkpointUri);
    meter.bytesOut = output.value.bytes;
    return { model: output.value, reused: output.reused };
  });
}

/** The checkpoint an earlier attempt left (on this disk or fetched from the store), or undefined. */
function readCheckpoint(file: string): { checkpoint: SoftmaxCheckpoint; spentSeconds: number } | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as { checkpoint: SoftmaxCheckpoint; spentSeconds: number };
  } catch {
    return undefined;
  }
}
