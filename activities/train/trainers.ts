import path from 'node:path';
import type { TrainerRoute } from '../../contracts/plugins';
import { didYouMean } from '../../contracts/closest-names';
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

/**
 * Refuses a spec whose trainer cannot take its task (or has a setting of another task's models), or its features
 * (categorical columns, for a trainer that declares `categorical: 'none'`). `trainer` is the spec's own unless
 * given (a plug-in's test passes its descriptor).
 */
export function checkTrainerTakes(spec: PipelineSpec, file: string, trainer: TrainerPlugin = trainerOf(spec.trainer.type)): void {
  const task = spec.task ?? 'binary';
  if (!trainer.tasks.includes(task)) {
    const takers = trainers().filter((t) => t.tasks.includes(task)).map((t) => t.type);
    throw specError(
      `${file}: trainer.type: ${trainer.type} trains ${trainer.tasks.join(' and ')} models, not ${task} ones (task: ${task}); ${takers.length > 0 ? `trainers for ${task}: ${takers.join(', ')}` : `no trainer takes ${task} yet`}`,
    );
  }
  for (const [setting, only] of Object.entries(trainer.taskSettings ?? {})) {
    if ((spec.trainer as Record<string, unknown>)[setting] !== undefined && only !== task) {
      throw specError(`${file}: trainer.${setting}: a setting of ${only} models (task: ${only}); this pipeline's task is ${task}`);
    }
  }
  const categorical = spec.features.categorical ?? [];
  if (categorical.length === 0 || trainer.categorical !== 'none') return;
  const native = trainers().filter((t) => t.categorical !== 'none' && t.tasks.includes(task)).map((t) => t.type);
  throw specError(
    `${file}: trainer.type: ${trainer.type} cannot take categorical features (features.categorical: ${categorical.join(', ')}); use a trainer that takes them (${native.join(', ')}), or encode them in features.sql (a statistics table of rates, a CASE)`,
  );
}

/**
 * Refuses a `tune:` its trainer cannot search (a trainer without a space, a setting it does not have, a range the
 * trainer's own settings refuse) and fills in the trainer's default space when `tune.space` is left out.
 */
export function resolveTuning(spec: PipelineSpec, file: string): void {
  if (!spec.tune) return;
  const trainer = trainerOf(spec.trainer.type);
  if (!trainer.tuning) {
    const tunable = trainers().filter((t) => t.tuning).map((t) => t.type);
    throw specError(`${file}: tune: trainer.type ${trainer.type} cannot be searched (it declares no space); tune works with ${tunable.join(', ')}, or remove tune:`);
  }
  const space = spec.tune.space ?? trainer.tuning.space;
  const settings = Object.keys(trainer.params.shape).filter((name) => !['type', 'seed', 'threads', 'refit', 'holdout'].includes(name));
  for (const [name, range] of Object.entries(space)) {
    const at = `${file}: tune.space.${name}`;
    if (!settings.includes(name)) {
      const guess = didYouMean(name, settings);
      throw specError(`${at}: ${trainer.type} has no setting ${name} to search${guess ? ` (did you mean ${guess}?)` : ''}; it has ${settings.join(', ')}`);
    }
    const values: unknown[] = range.choice ?? range.float ?? range.int ?? [];
    for (const value of values) {
      const parsed = trainer.params.safeParse({ ...spec.trainer, [name]: value });
      if (!parsed.success) {
        const issue = parsed.error.issues.find((i) => i.path[0] === name) ?? parsed.error.issues[0];
        throw specError(`${at}: ${JSON.stringify(value)} is not a valid trainer.${name} for ${trainer.type} (${issue.message})`);
      }
    }
  }
  spec.tune.space = space;
}
