import type { Duration } from '@temporalio/common';
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { SluiceActivities } from '../activities/index';
import type { PipelineSpec } from '../activities/spec-schema';

/** Bad spec, data or model: retrying cannot cure these, so they are not retried. */
const NON_RETRYABLE = ['SluiceSpecError', 'SluiceDataError', 'SluiceModelError'];

/** Transient faults retry with backoff: 1 s, doubling, at most 1 min apart, 5 attempts. */
export const retry: ActivityOptions['retry'] = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE };

/** Steps that only talk to Temporal or read small files. */
export const quick = proxyActivities<SluiceActivities>({ startToCloseTimeout: '1m', retry });
/** DuckDB steps over whole datasets. */
export const data = proxyActivities<SluiceActivities>({ startToCloseTimeout: '30m', retry });

/**
 * Proxies for long steps that heartbeat (training, scoring shards): silent for the spec's
 * `execution.heartbeat_timeout`, an attempt is presumed dead and retried from its last checkpoint.
 */
export function heartbeating(spec: PipelineSpec, startToCloseTimeout: Duration) {
  // Specs recorded before `execution` existed carry no such field (replay of older runs): default as the schema does.
  const heartbeatTimeout = ((spec.execution as PipelineSpec['execution'] | undefined)?.heartbeat_timeout ?? '1m') as Duration;
  return proxyActivities<SluiceActivities>({ startToCloseTimeout, heartbeatTimeout, retry });
}

/** The spec's `on_failure`, defaulted as the schema does for specs recorded before it existed. */
export function onFailureOf(spec: PipelineSpec): PipelineSpec['on_failure'] {
  return (spec.on_failure as PipelineSpec['on_failure'] | undefined) ?? { wait_for_operator: true, skippable: [] };
}
