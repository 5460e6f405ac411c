import type { DuckDBConnection } from '@duckdb/node-api';
import { runSpecSql, sqlIdent } from '../sql/duckdb';
import { specError } from '../../contracts/errors';
import { doubledSpan, labelledRowsSql, windowFeaturesSql, type WindowRead } from './point-in-time';
import { hashSplitOf, type DateWindow, type LoadedSpec } from '../../contracts/spec';
import type { ColumnInfo } from '../../contracts/artifacts';

/** A feature column that came out differently, with how many of the day's rows differ. */
interface Difference {
  column: string;
  rows: number;
}

/**
 * Proves on a sample of validation days that the features are point-in-time correct, before a model is
 * trained on them. Each day's features are computed as training computes them, then again
 *  - as a batch run for that day would see the data (no rows after the day, no label not yet known): any
 *    difference means features.sql reads the label or the future — leakage;
 *  - with twice the lookback: any difference means features.sql reads further back than features.lookback,
 *    so a day would score differently alone than inside a range.
 * Both are non-retryable spec errors naming the columns. Uses the views `extracted` and the statistics tables.
 */
export async function checkPointInTime(connection: DuckDBConnection, loaded: LoadedSpec, featureColumns: ColumnInfo[]): Promise<void> {
  const { spec } = loaded;
  // A hash split's rows have no time to leak across: their features are computed from each row alone (window functions are refused at load).
  if (hashSplitOf(spec)) return;
  const lookback = spec.features.lookback ?? '0d';
  for (const day of sampleDays(spec.split.validate)) {
    const window = { from: day, to: day };
    const base = await featuresOf(connection, loaded, 'pit_base', { window, horizon: true }, featureColumns);
    if (base === 0) continue;
    await featuresOf(connection, loaded, 'pit_as_of', { window, horizon: true, asOf: day }, featureColumns);
    const leaked = await differences(connection, loaded, 'pit_base', 'pit_as_of', featureColumns);
    if (leaked.length > 0) {
      throw specError(
        `${loaded.file}: features.sql reads the label or data after a row's time: on ${day}, ${describe(leaked, base)} when the rows after that day ` +
          `and the labels not yet known at its start (label.horizon: ${spec.label.horizon ?? '0d'}) are removed, which is all a batch run for ${day} has. ` +
          'Likely causes: a window frame that includes the same day or reaches FOLLOWING rows (end it at INTERVAL 1 DAY PRECEDING), a label read in a feature, or a join on a later date',
      );
    }
    const doubled = doubledSpan(spec.features.lookback);
    await featuresOf(connection, loaded, 'pit_longer', { window, horizon: true, lookback: doubled }, featureColumns);
    const reachesBack = await differences(connection, loaded, 'pit_base', 'pit_longer', featureColumns);
    if (reachesBack.length > 0) {
      const first = reachesBack[0];
      throw specError(
        `${loaded.file}: features.sql reads further back than features.lookback (${first.rows} of ${base} rows differ in column ${first.column}` +
          `${reachesBack.length > 1 ? `, and ${reachesBack.length - 1} more column${reachesBack.length > 2 ? 's' : ''}` : ''} on ${day} ` +
          `when ${doubled} of history is read instead of ${lookback}); set features.lookback to the longest span of history a window frame, lag() or join reads`,
      );
    }
  }
}

/** First, middle and last day of the validation window: the first is where missing history shows most. */
export function sampleDays(window: DateWindow): string[] {
  const from = Date.parse(`${window.from}T00:00:00Z`);
  const days = Math.round((Date.parse(`${window.to}T00:00:00Z`) - from) / 86_400_000);
  const day = (n: number) => new Date(from + n * 86_400_000).toISOString().slice(0, 10);
  return [...new Set([day(0), day(Math.floor(days / 2)), day(days)])];
}

/** Materializes the day's features under `table` (time, keys and FLOAT features); returns its row count. */
async function featuresOf(connection: DuckDBConnection, loaded: LoadedSpec, table: string, read: WindowRead, featureColumns: ColumnInfo[]): Promise<number> {
  // Categorical features are compared as they are (their values), the others as the FLOAT the model reads.
  const categorical = loaded.spec.features.categorical ?? [];
  const columns = [...identity(loaded).map(sqlIdent), ...featureColumns.map((c) => (categorical.includes(c.name) ? sqlIdent(c.name) : `CAST(${sqlIdent(c.name)} AS FLOAT) AS ${sqlIdent(c.name)}`))];
  await runSpecSql('label.sql', () => connection.run(`CREATE OR REPLACE VIEW source AS ${labelledRowsSql(loaded, 'extracted', read)}`));
  await runSpecSql('features.sql', () =>
    connection.run(`CREATE OR REPLACE TEMP TABLE ${table} AS SELECT ${columns.join(', ')} FROM (${windowFeaturesSql(loaded, read.window)})`),
  );
  const reader = await connection.runAndReadAll(`SELECT count(*) FROM ${table}`);
  return Number(reader.getRowsJS()[0][0]);
}

/** The columns that identify a row: the time column and the keys. */
function identity(loaded: LoadedSpec): string[] {
  return [...new Set([loaded.spec.extract.time_column, ...loaded.spec.features.keys])];
}

/** Feature columns whose (identity, value) multisets differ between two tables, with the number of rows that differ. */
async function differences(connection: DuckDBConnection, loaded: LoadedSpec, a: string, b: string, featureColumns: ColumnInfo[]): Promise<Difference[]> {
  const id = identity(loaded).map(sqlIdent).join(', ');
  // One comparison of whole rows first (the common case: equal); column by column only to name what differs.
  const whole = await connection.runAndReadAll(`SELECT count(*) FROM (SELECT * FROM ${a} EXCEPT ALL SELECT * FROM ${b})`);
  if (Number(whole.getRowsJS()[0][0]) === 0) return [];
  const counts = featureColumns.map((c) => {
    const cols = `${id}, ${sqlIdent(c.name)}`;
    return `(SELECT count(*) FROM (SELECT ${cols} FROM ${a} EXCEPT ALL SELECT ${cols} FROM ${b}))`;
  });
  const reader = await connection.runAndReadAll(`SELECT ${counts.join(', ')}`);
  const row = reader.getRowsJS()[0].map(Number);
  return featureColumns.map((c, i) => ({ column: c.name, rows: row[i] })).filter((d) => d.rows > 0);
}

function describe(found: Difference[], total: number): string {
  const columns = found.map((d) => `${d.column} (${d.rows} of ${total} rows)`).join(', ');
  return found.length > 1 ? `columns ${columns} change` : `column ${columns} changes`;
}
