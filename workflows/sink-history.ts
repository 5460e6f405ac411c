import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { SluiceActivities } from '../activities/index';
import type { SinkHistory } from '../activities/train/python-activities';
import { activitiesFor } from './activity-proxies';

const quick = proxyActivities<SluiceActivities>({ startToCloseTimeout: '1m', retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['SluiceSpecError'] } });

/**
 * The snapshots of a spec's sink table, oldest first, each with the run and model that committed it, and the files no
 * snapshot references (`sluice sink history`). Read-only: a model rollback never rewrites published data; an
 * operator reads an older snapshot (time travel) or rescores days instead.
 */
export async function sinkHistory(input: { spec: string }): Promise<SinkHistory> {
  const loaded = await quick.loadSpec({ spec: input.spec });
  if (loaded.sink?.runtime !== 'python') {
    throw ApplicationFailure.nonRetryable(`${loaded.file}: inference.sink: the ${loaded.spec.inference?.sink.type ?? 'spec\'s'} sink keeps no snapshots; sluice sink history reads an iceberg table`, 'SluiceSpecError');
  }
  return activitiesFor(loaded.spec).pythonSinks.sinkHistoryPython({ loaded });
}
