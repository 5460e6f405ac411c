import fs from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { runSpecSql, sqlString, sqlIdent } from '../sql/duckdb';
import { dataError } from '../../contracts/errors';
import type { DateWindow, LoadedSpec } from '../../contracts/spec';
import { classColumnsSql, outputColumn } from './score-stats';
import { scoringSelect } from './inference-source';
import type { ScoringTally } from './scoring-function';

/** The model a slice is scored with: what the scoring SQL needs of it. */
export interface SliceModel {
  version: number;
  featureNames: string[];
  classes?: string[];
}

/** Computes, scores and writes one slice in one statement; refuses it (nothing kept) if a feature was NULL, NaN or infinite. */
export async function stageSlice(
  connection: DuckDBConnection,
  tally: ScoringTally,
  dir: string,
  loaded: LoadedSpec,
  model: SliceModel,
  runId: string,
  window: DateWindow,
  grouped: boolean,
  snapshot?: string,
): Promise<number> {
  const keys = loaded.spec.features.keys.map(sqlIdent);
  // With categorical features or feature bins, the function also takes the row's day (as days since the window's first) to count by day.
  const group = grouped ? `, CAST(day - DATE ${sqlString(snapshot ?? window.from)} AS INTEGER)` : '';
  const lineage = [`${model.version}::INTEGER AS model_version`, `${sqlString(runId)} AS run_id`];
  const rows = scoringSelect(loaded, model.featureNames, window, snapshot);
  // A multiclass model's probabilities are computed once per row, then spread over its class columns.
  const select = model.classes
    ? `SELECT ${['day', ...keys, classColumnsSql('sluice_probabilities', model.classes), ...lineage].join(', ')} FROM (SELECT day, ${[...keys, `sluice_score(features${group}) AS sluice_probabilities`].join(', ')} FROM (${rows}))`
    : `SELECT ${['day', ...keys, `sluice_score(features${group}) AS ${outputColumn(loaded.spec.task ?? 'binary')}`, ...lineage].join(', ')} FROM (${rows})`;
  const copy = `COPY (${select}) TO ${sqlString(dir)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day))`;
  let written: number;
  try {
    written = Number((await runSpecSql('features.sql', () => connection.run(copy))).rowsChanged);
  } catch (err) {
    throw tally.error ?? err;
  } finally {
    if (tally.badRows > 0 || tally.error !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  }
  if (tally.badRows > 0) {
    const columnsHit = model.featureNames.flatMap((name, k) => (tally.badByFeature[k] > 0 ? [`\`${name}\` (${tally.badByFeature[k]} rows)`] : []));
    throw dataError(
      `features.sql: ${tally.badRows} rows${snapshot ? '' : ` in ${window.from} .. ${window.to}`} have NULL, NaN or infinite features: ${columnsHit.join(', ')}; fill them in the SQL (coalesce) or filter them; nothing was published`,
    );
  }
  return written;
}

/** A staged slice's marker: its rows, and per day the rows each categorical feature had a category training never saw, and its rows per feature bin. */
export interface SliceMarker {
  rows: number;
  unseen?: Record<string, Record<string, number>>;
  bins?: Record<string, number[]>;
}

/** The tally's feature bins of a slice, by day (`YYYY-MM-DD`). */
export function binsByDay(tally: ScoringTally, from: string): Record<string, number[]> {
  const found: Record<string, number[]> = {};
  const start = Date.parse(`${from}T00:00:00Z`);
  for (const [offset, counts] of tally.bins) found[new Date(start + offset * 86_400_000).toISOString().slice(0, 10)] = Array.from(counts);
  return found;
}

/** The tally's unseen-category counts of a slice, by day (`YYYY-MM-DD`) and feature name. */
export function unseenByDay(tally: ScoringTally, featureNames: string[], from: string): Record<string, Record<string, number>> {
  const found: Record<string, Record<string, number>> = {};
  const start = Date.parse(`${from}T00:00:00Z`);
  for (const [offset, counts] of tally.unseen) {
    const day = new Date(start + offset * 86_400_000).toISOString().slice(0, 10);
    const byFeature: Record<string, number> = {};
    counts.forEach((n, k) => {
      if (n > 0) byFeature[featureNames[k]] = n;
    });
    found[day] = byFeature;
  }
  return found;
}

