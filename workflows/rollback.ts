import { ApplicationFailure, executeChild, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { SluiceActivities } from '../activities/index';
import { backfill, type BackfillResult } from './backfill';
import type { AliasChange } from '../contracts/registry';
import { SluiceModelVersion, SluicePipeline, SluiceStatus } from '../contracts/search-attributes';

export interface RollbackInput {
  spec: string;
  /** The earlier version that becomes champion again. */
  toVersion: number;
  actor: string;
  reason: string;
  /** Rescore, with `toVersion`, every published day the replaced champion scored (found by `model_version`). */
  reprocess?: boolean;
}

export interface RollbackResult {
  model: string;
  replaced: number | null;
  champion: number;
  audit: AliasChange;
  reprocessed?: BackfillResult;
}

const quick = proxyActivities<SluiceActivities>({ startToCloseTimeout: '2m', retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['SluiceSpecError', 'SluiceModelError'] } });

/**
 * Moves a model's champion back to an earlier version, with an audit entry (who, why, when), and
 * optionally reprocesses the partitions the replaced version had scored: a backfill child with
 * `reprocess`, so each day is replaced atomically.
 */
export async function rollbackModel(input: RollbackInput): Promise<RollbackResult> {
  if (!input.actor || !input.reason) throw ApplicationFailure.nonRetryable('rollbackModel needs an actor and a reason for the audit log', 'SluiceSpecError');
  const loaded = await quick.loadSpec({ spec: input.spec });
  const model = loaded.spec.name;
  upsertSearchAttributes([
    { key: SluicePipeline, value: model },
    { key: SluiceStatus, value: 'running' },
    { key: SluiceModelVersion, value: input.toVersion },
  ]);
  const registry = await quick.readRegistry({ model });
  const replaced = registry?.aliases.champion ?? null;
  // Compare-and-set: a rollback replaces the champion it read, not one promoted since.
  const audit = await quick.setModelAlias({ model, request: { alias: 'champion', version: input.toVersion, actor: input.actor, reason: `rollback: ${input.reason}`, expected: replaced } });
  let reprocessed: BackfillResult | undefined;
  if (input.reprocess && replaced !== null && replaced !== input.toVersion) {
    const days = await quick.publishedDays({ loaded, filter: { modelVersion: replaced } });
    if (days.length > 0) {
      reprocessed = await executeChild(backfill, {
        workflowId: `${workflowInfo().workflowId}-reprocess`,
        args: [{ spec: input.spec, days, reprocess: true, modelVersion: input.toVersion }],
      });
    }
  }
  upsertSearchAttributes([{ key: SluiceStatus, value: 'rolled-back' }]);
  return { model, replaced, champion: input.toVersion, audit, reprocessed };
}
