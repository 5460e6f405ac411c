/**
 * The plug-in contracts: what a trainer, a sink and a source format declare about themselves. Each plug-in
 * is one module (activities/train/trainers/, activities/sinks/, activities/sources/formats/) that exports
 * one of these; the spec schema is assembled from the registered ones ({@link ./spec}), and the workflows
 * look a trainer's route up in the loaded spec ({@link TrainerRoute}) instead of naming one.
 */
import type { z } from 'zod';
import type { Task } from './tasks';
import type { TuneSpace } from './tuning';

/** The schema of a plug-in's spec section: a strict zod object whose `type` is the plug-in's literal name. */
export type PluginParams = z.ZodObject<{ type: z.ZodLiteral<string> } & z.ZodRawShape>;

/** Where a trainer runs: in the TypeScript worker's `train` activity, or the Python worker's `trainPython`. */
export type TrainerRuntime = 'typescript' | 'python';

/** What every trainer declares. The implementation (TypeScript) or the module beside it (Python) does the training. */
export interface TrainerDescriptor {
  /** `trainer.type` in the spec. */
  type: string;
  /** One line for the spec reference. */
  summary: string;
  /** The `trainer:` section's settings (`type` included), with defaults and doc comments. */
  params: PluginParams;
  /** The tasks it trains models for (`task:` in the spec). */
  tasks: readonly Task[];
  /** Settings that apply to one task only (`objective: 'regression'`): written in a spec of another task, they are refused. */
  taskSettings?: Readonly<Record<string, Task>>;
  runtime: TrainerRuntime;
  /** What one step of its progress is called in status lines: "iteration 4 of 30", "round 120 of 300". */
  progressUnit: 'iteration' | 'round';
  /** How it takes `features.categorical`: `native` categorical splits, `one-hot` indicators of the top categories, or not at all (a spec that has some is refused at load). */
  categorical: 'native' | 'one-hot' | 'none';
  /**
   * A trainer that can fit data-parallel: above `aboveRows(params)` training rows (undefined: never), the train
   * step is this child workflow (registered by the TypeScript worker), whose input and result are the train step's.
   */
  dataParallel?: { workflowType: string; aboveRows: (params: Record<string, unknown>) => number | undefined };
  /** A trainer that `tune:` can search (on the Python worker's `tuneTrial`), and its default space. */
  tuning?: { space: TuneSpace };
  /**
   * A trainer that runs code the spec names: the setting that holds the module's path (relative to the spec). The
   * loader confines it to the code roots and records its real path and content hash with the loaded spec ({@link TrainerCode}).
   */
  codeSetting?: string;
}

/** The code a spec's trainer runs, as the loader found it: confined to the code roots, and hashed (the train step's fingerprint includes it). */
export interface TrainerCode {
  /** The spec setting it came from (`trainer.module`). */
  setting: string;
  /** Its real path on the worker that loaded the spec; the Python workers read it at the same path. */
  path: string;
  /** SHA-256 of its content. */
  sha256: string;
}

/**
 * How the train step runs for a loaded spec, resolved from its trainer's descriptor when the spec is loaded
 * and recorded with it, so the workflow routes by data, never by a trainer's name.
 */
export interface TrainerRoute {
  type: string;
  runtime: TrainerRuntime;
  progressUnit: 'iteration' | 'round';
  /** The child workflow that fits data-parallel, and above how many training rows. */
  dataParallel?: { workflowType: string; aboveRows: number };
}

/** What every sink declares. */
export interface SinkDescriptor {
  /** `inference.sink.type` in the spec. */
  type: string;
  summary: string;
  params: PluginParams;
  /** True when `path` may be an `s3://` address (inside SLUICE_S3_ROOTS); otherwise such a path is refused. */
  objectStorage: boolean;
  /** Where it publishes: in the TypeScript worker's `publishScores` (the default), or the Python worker's (`<type>.py` beside it). */
  runtime?: 'typescript' | 'python';
}

/**
 * How the publish step of a loaded spec runs, for a sink that runs on the Python worker: resolved (its path confined
 * to the data roots, as a real path) when the spec is loaded and recorded with it, so the workflow routes by data.
 */
export interface SinkRoute {
  type: string;
  runtime: 'python';
  /** The sink's folder, a real path inside the data roots. */
  local: string;
}

/** What every source format declares. */
export interface FormatDescriptor {
  /** `sources.<name>.format` in the spec. */
  name: string;
  summary: string;
  /** File names that have this format when `format` is not given (`flights.csv`, `flights.csv.gz`). */
  extensions: RegExp;
}

/**
 * The route of a run recorded before routes were resolved when the spec is loaded (its loaded spec has none):
 * the two trainers of that time, as they ran then. New runs never use it.
 */
export function legacyRoute(trainer: { type: string; chunk_rows?: unknown }): TrainerRoute {
  if (trainer.type === 'lightgbm') return { type: trainer.type, runtime: 'python', progressUnit: 'round' };
  const dataParallel = typeof trainer.chunk_rows === 'number' ? { workflowType: 'fitLogistic', aboveRows: trainer.chunk_rows } : undefined;
  return { type: trainer.type, runtime: 'typescript', progressUnit: 'iteration', ...(dataParallel ? { dataParallel } : {}) };
}
