import { sqlIdent, sqlString } from '../sql/duckdb';
import { featuresQuery, windowPredicate } from '../sources/sources';
import type { DateWindow, LoadedSpec } from '../../contracts/spec';

/**
 * Point-in-time windows. Every window Sluice computes features for — a training split, an inference
 * partition, a shard, a slice — reads `features.lookback` of history before it and (training only)
 * `label.horizon` after it, runs the label and feature SQL over those rows, and keeps only its own rows.
 * So a day gets the same features alone or inside a range, in training and in serving.
 */

const UNITS: Record<string, string> = { s: 'seconds', m: 'minutes', h: 'hours', d: 'days' };

/** A `features.lookback` / `label.horizon` span as a DuckDB interval literal (zero when unset). */
export function intervalSql(span: string | undefined): string {
  const match = /^(\d+)(s|m|h|d)$/.exec(span ?? '0d');
  if (!match) throw new Error(`not a time span: ${span}`);
  return `INTERVAL '${match[1]} ${UNITS[match[2]]}'`;
}

/** Twice a span (the lookback check reads twice the declared history); one day when the span is zero or unset. */
export function doubledSpan(span: string | undefined): string {
  const match = /^(\d+)(s|m|h|d)$/.exec(span ?? '0d');
  const amount = match ? Number(match[1]) : 0;
  return amount === 0 ? '1d' : `${amount * 2}${match?.[2]}`;
}

/** How a window's rows are read. */
export interface WindowRead {
  window: DateWindow;
  /** Read `label.horizon` after the window (training, where labels are needed) or not (inference). */
  horizon: boolean;
  /** History to read instead of `features.lookback` (the lookback check doubles it). */
  lookback?: string;
  /**
   * Point in time `YYYY-MM-DD`: the data as a batch run for that day sees it — no row after the day, and no
   * label whose horizon is not over by the day's start. The leakage check compares features with and without it.
   */
  asOf?: string;
}

/** Condition on the time column selecting the rows a window reads: its days, the lookback before, the horizon after. */
export function readPredicate(loaded: LoadedSpec, read: WindowRead): string {
  const { spec } = loaded;
  const time = sqlIdent(spec.extract.time_column);
  const lookback = intervalSql(read.lookback ?? spec.features.lookback);
  const after = read.horizon ? ` + ${intervalSql(spec.label.horizon)}` : '';
  const end = read.asOf ?? read.window.to;
  return `${time} >= DATE ${sqlString(read.window.from)} - ${lookback} AND ${time} < DATE ${sqlString(end)} + INTERVAL 1 DAY${read.asOf ? '' : after}`;
}

/**
 * SQL of the labelled rows a window reads, from `rows` (a relation with the extract query's columns): the
 * label is computed over all of them, so a label that reads ahead (lead) sees the horizon. With `asOf`, labels
 * not yet known on that day are NULL.
 */
export function labelledRowsSql(loaded: LoadedSpec, rows: string, read: WindowRead): string {
  const { spec } = loaded;
  const label = sqlIdent(spec.label.name);
  const labelled = `SELECT *, (\n${spec.label.sql}\n) AS ${label} FROM (SELECT * FROM ${rows} WHERE ${readPredicate(loaded, read)})`;
  if (!read.asOf) return labelled;
  const known = `${sqlIdent(spec.extract.time_column)} + ${intervalSql(spec.label.horizon)} < DATE ${sqlString(read.asOf)}`;
  return `SELECT * REPLACE (CASE WHEN ${known} THEN ${label} END AS ${label}) FROM (${labelled})`;
}

/** Condition on the time column: the row's label horizon ends within the data (`dataEnd`, the newest time in the source). */
export function horizonWithinData(loaded: LoadedSpec, dataEnd: string | undefined): string {
  if (!dataEnd) return 'TRUE';
  const time = sqlIdent(loaded.spec.extract.time_column);
  return `${time} + ${intervalSql(loaded.spec.label.horizon)} <= TIMESTAMP ${sqlString(dataEnd)}`;
}

/**
 * features.sql over the view `source`, keeping only the rows of `window` (and, given `dataEnd`, only those
 * whose label horizon lies within the data).
 */
export function windowFeaturesSql(loaded: LoadedSpec, window: DateWindow, dataEnd?: string): string {
  const time = loaded.spec.extract.time_column;
  return `SELECT * FROM (${featuresQuery(loaded)}) WHERE ${windowPredicate(time, window)} AND ${horizonWithinData(loaded, dataEnd)}`;
}
