import { ApplicationFailure, continueAsNew, defineQuery, proxyActivities, setHandler, startChild, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { SluiceActivities } from '../activities/index';
import { batchInference } from './batch-inference';
import { activitiesFor } from './activity-proxies';
import { SluicePipeline, SluiceStatus } from '../contracts/search-attributes';

export interface BackfillInput {
  spec: string;
  /** An inclusive range of days, `YYYY-MM-DD` … */
  from?: string;
  to?: string;
  /** … or an explicit list of days (a rollback reprocesses the days a model scored). */
  days?: string[];
  /** Score days that are already published too, replacing them; otherwise those are left alone. */
  reprocess?: boolean;
  modelVersion?: number;
  /** Partitions scored at once (child workflows), default 4. */
  concurrency?: number;
  /** Days per run before continuing as new, default 50. */
  daysPerRun?: number;
  /** Carried across continue-as-new: where the previous run stopped and what it did. */
  state?: BackfillState;
}

export interface BackfillState {
  pending: string[];
  published: string[];
  alreadyPublished: string[];
  failed: Array<{ day: string; error: string }>;
  rows: number;
}

export type BackfillResult = Omit<BackfillState, 'pending'>;

export const backfillProgressQuery = defineQuery<BackfillState>('progress');

const quick = proxyActivities<SluiceActivities>({ startToCloseTimeout: '2m', retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['SluiceSpecError'] } });

/** Children started per run before continuing as new, so a backfill of any length keeps a small history. */
const DAYS_PER_RUN = 50;

/**
 * Scores a range (or list) of days, one batchInference child workflow per day, at most `concurrency` at
 * once. Days already in the sink are skipped unless `reprocess` (then each is replaced atomically by its
 * child). A failed day is recorded and the others go on; the result lists published, skipped and failed
 * days. Continues as new every 50 days.
 */
export async function backfill(input: BackfillInput): Promise<BackfillResult> {
  let state = input.state;
  if (!state) {
    const loaded = await quick.loadSpec({ spec: input.spec });
    upsertSearchAttributes([{ key: SluicePipeline, value: loaded.spec.name }]);
    if ('hash' in loaded.spec.split) {
      throw ApplicationFailure.nonRetryable(`${loaded.file}: a pipeline split by hash has no days to backfill: \`sluice infer ${loaded.file} latest\` scores its whole source`, 'SluiceSpecError');
    }
    const days = input.days ?? daysBetween(input.from, input.to);
    const filter = { from: days[0], to: days[days.length - 1] };
    // A sink that runs on the Python worker lists its days there.
    const listed = () => (loaded.sink?.runtime === 'python' ? activitiesFor(loaded.spec).pythonSinks.publishedDaysPython({ loaded, filter }) : quick.publishedDays({ loaded, filter }));
    const existing = input.reprocess ? [] : await listed();
    state = {
      pending: days.filter((d) => !existing.includes(d)),
      published: [],
      alreadyPublished: days.filter((d) => existing.includes(d)),
      failed: [],
      rows: 0,
    };
  }
  const current = state;
  setHandler(backfillProgressQuery, () => current);
  upsertSearchAttributes([{ key: SluiceStatus, value: 'running' }]);

  const batch = current.pending.splice(0, input.daysPerRun ?? DAYS_PER_RUN);
  let next = 0;
  const lanes = Array.from({ length: Math.min(input.concurrency ?? 4, batch.length) }, async () => {
    while (next < batch.length) {
      const day = batch[next++];
      try {
        const child = await startChild(batchInference, {
          workflowId: `${workflowInfo().workflowId}-${day}`,
          staticSummary: `score ${day} (backfill of ${input.spec})`,
          // A failed day fails its child at once (no operator wait), so it never blocks the other days.
          args: [{ spec: input.spec, partition: day, modelVersion: input.modelVersion, waitForOperator: false }],
        });
        const result = await child.result();
        current.published.push(day);
        current.rows += result.rows;
      } catch (err) {
        // child → activity → the application failure that says what is wrong
        let cause: unknown = err;
        while (cause instanceof Error && cause.cause) cause = cause.cause;
        current.failed.push({ day, error: cause instanceof Error ? cause.message : String(cause) });
      }
    }
  });
  await Promise.all(lanes);

  if (current.pending.length > 0) {
    await continueAsNew<typeof backfill>({ ...input, state: current });
  }
  upsertSearchAttributes([{ key: SluiceStatus, value: current.failed.length > 0 ? 'partially-failed' : 'published' }]);
  const { pending, ...result } = current;
  return { ...result, published: [...result.published].sort(), failed: [...result.failed].sort((a, b) => (a.day < b.day ? -1 : 1)) };
}

/** Every calendar day from `from` to `to`, inclusive. */
function daysBetween(from: string | undefined, to: string | undefined): string[] {
  const day = /^\d{4}-\d{2}-\d{2}$/;
  if (!from || !to || !day.test(from) || !day.test(to) || from > to) {
    throw ApplicationFailure.nonRetryable('backfill expects {"spec": …, "from": "YYYY-MM-DD", "to": "YYYY-MM-DD"} or {"spec": …, "days": [...]}', 'SluiceSpecError');
  }
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}
