import type { StepCost } from '../../contracts/costs';
import type { ParamValue, SuggestInput, TrialRecord, TuneMetric } from '../../contracts/tuning';
import type { TrainInput, TrainOutput } from './trainer';
import type { LoadedSpec } from '../../contracts/spec';
import type { PublishInput } from '../sinks/publish';
import type { PublishedFilter } from '../sinks/sink';

/** One trial of a search: the spec's trainer settings with `params` over them, fitted on the fit rows, scored on the holdout days. */
export interface TrialInput extends TrainInput {
  params: Record<string, ParamValue>;
  metric: TuneMetric;
  /** With `pruning: median`: the records of the complete trials whose holdout losses by round this trial's are compared with. */
  pruning?: { finished: string[] };
}

export interface TrialOutput {
  trial: Pick<TrialRecord, 'state' | 'value' | 'holdout' | 'bestIteration' | 'iterations' | 'resumedFrom' | 'searched' | 'reason'> & { uri: string; fingerprint: string; bytes: number };
  reused: boolean;
  cost: StepCost;
}

/**
 * Activities the Python worker (`workers/python`, Temporal's Python SDK) implements on its own task queue
 * (`execution.python_task_queue`, default `sluice-python`): the best library for the step is in Python. They
 * take and return the same contracts as their TypeScript siblings.
 */
export interface PythonActivities {
  /**
   * The train step of every Python trainer plug-in (`runtime: 'python'`): the module beside its descriptor trains,
   * exports one ONNX model with Sluice's metadata (checked to score like the library itself) and publishes it atomically.
   */
  trainPython(input: TrainInput): Promise<TrainOutput>;
  /** The same for LightGBM, under the name runs recorded before trainer plug-ins scheduled it by. */
  trainLightgbm(input: TrainInput): Promise<TrainOutput>;
  /** The next configuration of a `tune:` search (Optuna, ask-and-tell), on the sampler's queue (`<python queue>-sampler`). */
  suggestTrial(input: SuggestInput): Promise<{ params: Record<string, ParamValue>; cost: StepCost }>;
  /** One trial of a `tune:` search; content-addressed, checkpointed and heartbeating like the train step. */
  tuneTrial(input: TrialInput): Promise<TrialOutput>;
  /**
   * The publish step of a sink that runs on the Python worker (`runtime: 'python'`), on its sinks queue (`<python
   * queue>-sinks`, so a publish never waits behind a training): the same input and result as `publishScores`.
   */
  publishScoresPython(input: PublishInput & { modelUri?: string }): Promise<PublishOutput>;
  /** The days such a sink holds, optionally only those a model version scored (as `publishedDays`). */
  publishedDaysPython(input: { loaded: LoadedSpec; filter: PublishedFilter }): Promise<string[]>;
  /** Every snapshot (commit) of such a sink's table, oldest first, with the run and model that wrote it, and the files no snapshot references. */
  sinkHistoryPython(input: { loaded: LoadedSpec }): Promise<SinkHistory>;
}

/** What the publish step returns, whichever worker publishes. */
export interface PublishOutput {
  sink: string;
  location: string;
  days: number;
  rows: number;
  cost: StepCost;
}

/** The snapshots of a sink's table (`sluice sink history`). */
export interface SinkHistory {
  location: string;
  snapshots: Array<{ snapshotId: string; committedAt: string; operation: string; runId?: string; modelVersion?: number; modelUri?: string; rows: number; days: number; current: boolean }>;
  /** Data files under the table's folder that no snapshot references: what a publish killed before its commit left, for cleanup. */
  orphans: string[];
}
