import path from 'node:path';
import type { TrainerRoute } from '../../contracts/plugins';
import { specError } from '../../contracts/errors';
import type { PipelineSpec } from '../../contracts/spec';
import { discover } from '../spec/discover';
import type { TrainerPlugin } from './trainer';

let registered: TrainerPlugin[] | undefined;

/** The registered trainers: every module in trainers/. */
export function trainers(): TrainerPlugin[] {
  registered ??= discover<TrainerPlugin>(path.join(__dirname, 'trainers'), 'trainer');
  return registered;
}

/** The trainer plug-in of `type` (the spec schema has already refused unknown types). */
export function trainerOf(type: string): TrainerPlugin {
  const found = trainers().find((t) => t.type === type);
  if (!found) throw new Error(`trainer.type: no trainer ${type} is registered (${trainers().map((t) => t.type).join(', ')})`);
  return found;
}

/** How the train step of a validated spec runs: recorded with the loaded spec, so workflows route by it. */
export function routeOf(spec: PipelineSpec): TrainerRoute {
  const trainer = trainerOf(spec.trainer.type);
  const aboveRows = trainer.dataParallel?.aboveRows(spec.trainer);
  return {
    type: trainer.type,
    runtime: trainer.runtime,
    progressUnit: trainer.progressUnit,
    ...(trainer.dataParallel && aboveRows !== undefined ? { dataParallel: { workflowType: trainer.dataParallel.workflowType, aboveRows } } : {}),
  };
}

/** Refuses a spec whose trainer cannot take what its features are (categorical columns, for a trainer without categorical splits). */
export function checkTrainerTakes(spec: PipelineSpec, file: string): void {
  const categorical = spec.features.categorical ?? [];
  const trainer = trainerOf(spec.trainer.type);
  if (categorical.length === 0 || trainer.categorical !== 'none') return;
  const native = trainers().filter((t) => t.categorical === 'native').map((t) => t.type);
  throw specError(
    `${file}: trainer.type: ${trainer.type} cannot take categorical features (features.categorical: ${categorical.join(', ')}); use a trainer that splits on categories (${native.join(', ')}), or encode them in features.sql (a statistics table of rates, a CASE)`,
  );
}
