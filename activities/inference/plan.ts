import type { ArtifactRef, ArtifactStore, ColumnInfo } from '../artifacts';
import { metered } from '../cost';
import { runSpecSql, sqlIdent, withDuckDB } from '../duckdb';
import { dataError, modelError, specError } from '../errors';
import { featureDefinitionHash } from '../features';
import { windowPredicate } from '../sources';
import type { LoadedSpec } from '../spec-loader';
import type { DateWindow } from '../spec-schema';
import { checkSchema, describeFeatures, prepareFeatureContext, selectSource } from './inference-source';

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
    const where = `partition ${window.from}${window.to === window.from ? '' : ` .. ${window.to}`}`;
    if (input.definitionHash && input.definitionHash !== featureDefinitionHash(loaded)) {
      throw modelError(`${loaded.file}: label or features changed since ${input.modelName} was trained; retrain, or score with the spec it was trained with`);
    }
    return withDuckDB(async (connection) => {
      await prepareFeatureContext(connection, store, loaded, input.stats);
      await selectSource(connection, loaded, window);
      const columns = await describeFeatures(connection, loaded, where);
      checkSchema(input.modelFeatures, columns, where, input.modelName);
      const time = loaded.spec.extract.time_column;
      if (!columns.some((c) => c.name === time)) {
        throw dataError(`features.sql: must select the time column \`${time}\` through; inference partitions its output by its day`);
      }
      const query = loaded.spec.extract.query.trim().replace(/;\s*$/, '');
      const reader = await runSpecSql('extract.query', () =>
        connection.runAndReadAll(
          `SELECT strftime(CAST(${sqlIdent(time)} AS DATE), '%Y-%m-%d') AS day, count(*) AS n FROM (${query}) WHERE ${windowPredicate(time, window)} GROUP BY 1 ORDER BY 1`,
        ),
      );
      const days: DayCount[] = reader.getRowsJS().map(([day, n]) => ({ day: String(day), rows: Number(n) }));
      const rows = days.reduce((s, d) => s + d.rows, 0);
      if (rows === 0) throw dataError(`${where}: the source has no rows to score (extract.time_column: ${time}); nothing was published`);
      meter.rowsIn = rows;
      return { shards: groupDays(days, inference.shard_rows), rows, days: days.length, featureColumns: columns };
    });
  });
}

/** Consecutive days, in order, packed into groups of at most `limit` rows (a bigger day is a group of its own). */
export function groupDays(days: DayCount[], limit: number): Shard[] {
  const shards: Shard[] = [];
  for (const day of days) {
    const last = shards[shards.length - 1];
    if (last && last.rows + day.rows <= limit) {
      last.days.push(day);
      last.rows += day.rows;
    } else {
      shards.push({ index: shards.length, days: [day], rows: day.rows });
    }
  }
  return shards;
}
