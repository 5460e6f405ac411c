import type { ArtifactStore } from '../storage/artifact-store';
import { sinkTarget } from '../sinks/sinks';
import { metered } from '../cost/meter';
import { runSpecSql, sqlIdent, withDuckDB } from '../sql/duckdb';
import { dataError, modelError, specError } from '../../contracts/errors';
import { featureDefinitionHash } from '../features/features';
import { windowPredicate, extractQuery } from '../sources/sources';
import { hashSplitOf, type DateWindow, type LoadedSpec } from '../../contracts/spec';
import { checkSchema, describeFeatures, fetchStats, prepareFeatureContext, selectSource } from './inference-source';
import type { ArtifactRef, ColumnInfo } from '../../contracts/artifacts';

/** Rows of one day of the partition. */
export interface DayCount {
  day: string;
  rows: number;
}

/** Consecutive days scored by one activity. */
export interface Shard {
  index: number;
  days: DayCount[];
  rows: number;
  /**
   * A hash-split pipeline's output partition (`YYYY-MM-DD`): its source has no days, so every shard (its `days`
   * are hash buckets) writes into the one partition of the day the run planned it, a snapshot of the whole source.
   */
  snapshot?: string;
}

export interface PlanInput {
  loaded: LoadedSpec;
  window: DateWindow;
  stats: Record<string, ArtifactRef>;
  /** The model's input schema: feature names and types, in input order. */
  modelFeatures: ColumnInfo[];
  modelName: string;
  /** The feature definition the statistics were made with; the spec's must be the same. */
  definitionHash?: string;
}

/**
 * Checks the partition's features against the model's input schema (a drift fails the run before
 * anything is scored) and groups the partition's days into shards of about `shard_rows` rows.
 */
export async function planInference(store: ArtifactStore, input: PlanInput) {
  const { loaded, window } = input;
  const inference = loaded.spec.inference;
  if (!inference) throw specError(`${loaded.file}: inference: is required to run batch inference (shard_rows, sink, …)`);
  return metered(async (meter) => {
    // The sink's path is confined (or refused) before anything is scored.
    sinkTarget(loaded);
    const where = `partition ${window.from}${window.to === window.from ? '' : ` .. ${window.to}`}`;
    if (input.definitionHash && input.definitionHash !== featureDefinitionHash(loaded)) {
      throw modelError(`${loaded.file}: label or features changed since ${input.modelName} was trained; retrain, or score with the spec it was trained with`);
    }
    return withDuckDB(async (connection) => {
      await prepareFeatureContext(connection, loaded, await fetchStats(store, input.stats));
      await selectSource(connection, loaded, window);
      const columns = await describeFeatures(connection, loaded, where);
      checkSchema(input.modelFeatures, columns, where, input.modelName);
      const time = loaded.spec.extract.time_column;
      if (!columns.some((c) => c.name === time)) {
        throw dataError(`features.sql: must select the time column \`${time}\` through; inference partitions its output by its day`);
      }
      const query = extractQuery(loaded);
      const reader = await runSpecSql('extract.query', () =>
        connection.runAndReadAll(
          `SELECT strftime(day, '%Y-%m-%d'), n FROM (SELECT CAST(${sqlIdent(time)} AS DATE) AS day, count(*) AS n FROM (${query}) WHERE ${windowPredicate(time, window)} GROUP BY 1) ORDER BY day`,
        ),
      );
      const days: DayCount[] = reader.getRowsJS().map(([day, n]) => ({ day: String(day), rows: Number(n) }));
      const rows = days.reduce((s, d) => s + d.rows, 0);
      if (rows === 0) throw dataError(`${hashSplitOf(loaded.spec) ? 'the whole source' : where}: the source has no rows to score${hashSplitOf(loaded.spec) ? '' : ` (extract.time_column: ${time})`}; nothing was published`);
      meter.rowsIn = rows;
      const shards = groupDays(days, inference.shard_rows, inference.max_parallel_shards);
      if (hashSplitOf(loaded.spec)) {
        const snapshot = new Date().toISOString().slice(0, 10);
        return { shards: shards.map((s) => ({ ...s, snapshot })), rows, days: 1, featureColumns: columns, snapshot };
      }
      return { shards, rows, days: days.length, featureColumns: columns };
    }, { confineTo: [store.root] });
  });
}

/**
 * Consecutive days, in order, split into ceil(rows / limit) groups of about equal rows (each day goes to
 * the group its middle row falls in), so no group is a small leftover. A group exceeds `limit` by less
 * than one day; a day bigger than the limit is a group of its own. With `parallel` > 1, more than one
 * group is rounded up to a multiple of it, so groups scored `parallel` at a time finish together
 * (3M rows in shards of 1M, 2 at a time: four of 750k, not two waves of which the second runs alone).
 */
export function groupDays(days: DayCount[], limit: number, parallel = 1): Shard[] {
  const total = days.reduce((s, d) => s + d.rows, 0);
  const needed = Math.max(1, Math.ceil(total / limit));
  const groups = needed > 1 ? Math.ceil(needed / parallel) * parallel : 1;
  const share = total / groups;
  const shards: Shard[] = [];
  let before = 0;
  let last = -1;
  for (const day of days) {
    const group = Math.min(groups - 1, Math.floor((before + day.rows / 2) / share));
    if (group !== last || shards.length === 0) shards.push({ index: shards.length, days: [], rows: 0 });
    const shard = shards[shards.length - 1];
    shard.days.push(day);
    shard.rows += day.rows;
    before += day.rows;
    last = group;
  }
  return shards;
}
