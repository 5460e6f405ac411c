import type { Duration } from '@temporalio/common';
import { ActivityCancellationType, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { SluiceActivities } from '../activities/index';
import type { PythonActivities } from '../activities/train/python-activities';
import type { PipelineSpec } from '../contracts/spec';
import { budgetOf } from '../contracts/budget';

/** Bad spec, data or model, or a spent budget: retrying cannot cure these, so they are not retried. */
const NON_RETRYABLE = ['SluiceSpecError', 'SluiceDataError', 'SluiceModelError', 'SluiceBudgetExceeded'];

/** Transient faults retry with backoff: 1 s, doubling, at most 1 min apart, 5 attempts (or the budget's `max_attempts`). */
export function retryFor(spec?: PipelineSpec): ActivityOptions['retry'] {
  const attempts = spec ? budgetOf(spec)?.max_attempts : undefined;
  return { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: attempts ?? 5, nonRetryableErrorTypes: NON_RETRYABLE };
}

/**
 * The activities of a run of `spec`: `quick` for steps that only talk to Temporal or read small files,
 * `data` for DuckDB steps over whole datasets, `training` and `scoring` for long steps. Every activity
 * that can run longer than a minute heartbeats: silent for the spec's `execution.heartbeat_timeout`, an
 * attempt is presumed dead (and training and scoring resume from their last checkpoint). A cancelled run
 * waits until its training or scoring activity has stopped, so nothing it started still runs.
 */
export function activitiesFor(spec?: PipelineSpec) {
  const retry = retryFor(spec);
  // Specs recorded before `execution` existed carry no such field (replay of older runs): default as the schema does.
  const execution = spec?.execution as PipelineSpec['execution'] | undefined;
  const heartbeatTimeout = (execution?.heartbeat_timeout ?? '1m') as Duration;
  const long = { heartbeatTimeout, retry, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED };
  const heartbeating = (startToCloseTimeout: Duration, taskQueue?: string) => proxyActivities<SluiceActivities>({ startToCloseTimeout, taskQueue, ...long });
  return {
    quick: proxyActivities<SluiceActivities>({ startToCloseTimeout: '1m', retry }),
    data: proxyActivities<SluiceActivities>({ startToCloseTimeout: '30m', heartbeatTimeout, retry }),
    /** The train step, on `execution.train_task_queue` when the spec names one. */
    training: heartbeating('2h', execution?.train_task_queue),
    /** Scoring shards, on `execution.score_task_queue` when the spec names one. */
    scoring: heartbeating('1h', execution?.score_task_queue),
    /** Steps the Python worker runs (LightGBM training), on `execution.python_task_queue`. */
    python: proxyActivities<PythonActivities>({ startToCloseTimeout: '2h', taskQueue: pythonQueue(spec), ...long }),
    /** A Python sink's steps (publish, published days, history), on the Python workers' sinks queue (`<python queue>-sinks`). */
    pythonSinks: proxyActivities<PythonActivities>({ startToCloseTimeout: '30m', taskQueue: `${pythonQueue(spec)}-sinks`, retry }),
  };
}

/** The Python worker's queue of the spec. */
function pythonQueue(spec?: PipelineSpec): string {
  return (spec?.execution as PipelineSpec['execution'] | undefined)?.python_task_queue ?? 'sluice-python';
}

/**
 * The activities of a `tune:` search: the sampler on its own queue (`<python queue>-sampler`, which every Python
 * worker polls besides its trainer queue, so a suggestion never waits behind a trial), and the trials, each
 * bounded by `tune.max_trial_time` across its attempts.
 */
export function tuningActivities(spec: PipelineSpec) {
  const retry = retryFor(spec);
  const heartbeatTimeout = (spec.execution.heartbeat_timeout ?? '1m') as Duration;
  const maxTrialTime = spec.tune?.max_trial_time as Duration | undefined;
  return {
    sampler: proxyActivities<PythonActivities>({ startToCloseTimeout: '1m', taskQueue: `${pythonQueue(spec)}-sampler`, retry }),
    trials: proxyActivities<PythonActivities>({
      startToCloseTimeout: '2h',
      ...(maxTrialTime ? { scheduleToCloseTimeout: maxTrialTime } : {}),
      taskQueue: pythonQueue(spec),
      heartbeatTimeout,
      retry,
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    }),
  };
}

/** An activity as `proxyActivities` returns it: callable, and with call-site options. */
interface ActivityCall<A extends unknown[], R> {
  executeWithOptions(options: ActivityOptions, args: A): Promise<R>;
}

/**
 * Calls an activity with a one-line summary the Web UI shows on its events instead of the bare activity
 * type, e.g. "score shard 3 of 4: 2001-03-01 .. 2001-03-31 (1,002,114 rows)".
 */
export function summarized<A extends unknown[], R>(activity: ActivityCall<A, R>, summary: string, ...args: A): Promise<R> {
  return activity.executeWithOptions({ summary }, args);
}

/** 2497772 → "2,497,772" (by hand: the workflow sandbox need not have locale data). */
export function count(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The activities before a spec is loaded (loading it, reading the registry). */
export const { quick, data } = activitiesFor();

/** The spec's `on_failure`, defaulted as the schema does for specs recorded before it existed. */
export function onFailureOf(spec: PipelineSpec): PipelineSpec['on_failure'] {
  const onFailure = (spec.on_failure as Partial<PipelineSpec['on_failure']> | undefined) ?? {};
  return { wait_for_operator: onFailure.wait_for_operator ?? true, skippable: onFailure.skippable ?? [], wait_timeout: onFailure.wait_timeout ?? '7d' };
}
