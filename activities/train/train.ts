import type { ArtifactStore } from '../storage/artifact-store';
import { specError } from '../../contracts/errors';
import type { TrainHooks, TrainInput, TrainOutput } from './trainer';
import { trainerOf } from './trainers';

/**
 * The train step on the TypeScript worker: the spec's trainer plug-in trains and publishes its model (one
 * self-contained ONNX file with the metadata contract, content-addressed, so an unchanged rerun reuses it).
 */
export async function trainModel(store: ArtifactStore, input: TrainInput, hooks: TrainHooks = {}): Promise<TrainOutput> {
  const trainer = trainerOf(input.loaded.spec.trainer.type);
  if (!trainer.train) throw specError(`trainer.type: ${trainer.type} trains on the ${trainer.runtime} worker (trainPython), not in this activity`);
  return trainer.train({ store, ...input, params: input.loaded.spec.trainer, hooks });
}
