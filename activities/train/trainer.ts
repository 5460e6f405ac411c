import type { z } from 'zod';
import type { FeatureSet, ModelArtifact, TrainHeartbeat } from '../../contracts/artifacts';
import type { StepCost } from '../../contracts/costs';
import type { PluginParams, TrainerDescriptor } from '../../contracts/plugins';
import type { LoadedSpec } from '../../contracts/spec';
import type { ArtifactStore } from '../storage/artifact-store';

/** How a trainer reports progress, and what an earlier attempt left to resume from. */
export interface TrainHooks {
  /** A checkpoint from an earlier attempt (its fingerprint must match to be used). */
  resume?: TrainHeartbeat;
  /** Heartbeats a checkpoint; throws the activity's cancellation once it is asked for. */
  onIteration?: (heartbeat: TrainHeartbeat) => void;
  /** Called between the loading phases, before the first iteration, to show the attempt is alive. */
  alive?: () => void;
}

/** The train step's input, as the workflow sends it to every trainer (TypeScript or Python). */
export interface TrainInput {
  loaded: LoadedSpec;
  features: FeatureSet;
  /**
   * After a `tune:` search: how the best trial's early stopping went, for a trainer that refits (the Python
   * boosting trainers). The refit trains that many rounds on every training day without searching again: the
   * trial already did, with the same settings on the same rows.
   */
  searched?: SearchedRounds;
}

/** What early stopping chose in a fit on the training window's fit rows, scored on its holdout days. */
export interface SearchedRounds {
  iterations: number;
  bestIteration: number;
  trainLoss: number;
  validationLoss: number;
  stopReason: string;
}

/** What a TypeScript trainer gets: the artifact store, the spec and feature-set references, its parsed settings, and the hooks. */
export interface TrainContext<P> extends TrainInput {
  store: ArtifactStore;
  params: P;
  hooks: TrainHooks;
}

/** The train step's result: one self-contained ONNX model with the metadata contract, content-addressed. */
export type TrainOutput = { model: ModelArtifact; reused: boolean; cost: StepCost };

/**
 * A trainer plug-in: one module in trainers/ exporting `trainer`. A TypeScript trainer implements `train`; a
 * Python trainer has none here, and its implementation is the module beside it (`<type>.py`), which the
 * Python worker finds there.
 */
export interface TrainerPlugin<P = Record<string, unknown>> extends TrainerDescriptor {
  train?(context: TrainContext<P>): Promise<TrainOutput>;
}

/** A trainer plug-in with its `train` typed by its own parameter schema. */
export function defineTrainer<S extends PluginParams>(plugin: TrainerDescriptor & { params: S; train?(context: TrainContext<z.output<S>>): Promise<TrainOutput> }): TrainerPlugin {
  return plugin as unknown as TrainerPlugin;
}
