import fs from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ArtifactRef, CategoricalColumn } from '../../contracts/artifacts';
import { CATEGORIES_TABLE, DEFAULT_MAX_CATEGORIES, type LoadedSpec } from '../../contracts/spec';
import { describeQuery, runSpecSql, scalar, sqlIdent, sqlString, withDuckDB } from '../sql/duckdb';
import type { ArtifactStore, StagingArea } from '../storage/artifact-store';
import type { FeatureSet } from '../../contracts/artifacts';

/**
 * Categorical features: a dictionary learned from the training window alone, like every statistic. Each
 * categorical column's values, most frequent first (ties by value), get the codes 0, 1, …; past
 * `max_categories`, the rarer ones share the next code; a value training never saw (or NULL) is missing (NaN),
 * never an error. The dictionary is the statistics table `sluice_categories` (`column`, `value`, `code`), stored
 * with the feature set and loaded wherever the features are computed again (validation, the point-in-time check,
 * every scoring run), so a category has one code everywhere.
 */

/** Builds the dictionary from `rows` (features.sql over the training window) into the table and the staging folder. */
export async function buildDictionary(connection: DuckDBConnection, loaded: LoadedSpec, rows: string, staging: StagingArea): Promise<{ ref: ArtifactRef; columns: CategoricalColumn[] }> {
  const categorical = loaded.spec.features.categorical ?? [];
  const limit = loaded.spec.features.max_categories ?? DEFAULT_MAX_CATEGORIES;
  const counted = categorical.map(
    (c) => `SELECT ${sqlString(c)} AS "column", CAST(${sqlIdent(c)} AS VARCHAR) AS value, count(*) AS n FROM (${rows}) WHERE ${sqlIdent(c)} IS NOT NULL GROUP BY 2`,
  );
  await runSpecSql('features.categorical', () =>
    connection.run(
      `CREATE OR REPLACE TABLE ${CATEGORIES_TABLE} AS SELECT "column", value, CAST(least(row_number() OVER (PARTITION BY "column" ORDER BY n DESC, value) - 1, ${limit}) AS INTEGER) AS code FROM (${counted.join(' UNION ALL ')})`,
    ),
  );
  const file = `stats-${CATEGORIES_TABLE}.parquet`;
  await connection.run(`COPY (SELECT * FROM ${CATEGORIES_TABLE} ORDER BY "column", code, value) TO ${sqlString(staging.file(file))} (FORMAT parquet)`);
  const columns: CategoricalColumn[] = [];
  for (const name of categorical) {
    const reader = await connection.runAndReadAll(`SELECT count(*) FILTER (WHERE code < ${limit}), count(*) FILTER (WHERE code = ${limit}) FROM ${CATEGORIES_TABLE} WHERE "column" = ${sqlString(name)}`);
    const [codes, rare] = reader.getRowsJS()[0].map(Number);
    columns.push({ name, codes, rare });
  }
  const ref: ArtifactRef = {
    uri: staging.uriOf(file),
    fingerprint: '',
    rows: Number(await scalar(connection, `SELECT count(*) FROM ${CATEGORIES_TABLE}`)),
    bytes: fs.statSync(staging.file(file)).size,
    columns: await describeQuery(connection, CATEGORIES_TABLE),
  };
  return { ref, columns };
}

/**
 * `inner` (rows of features.sql) with each categorical column replaced by its code as FLOAT from the dictionary
 * table, NaN where the dictionary has none. Unchanged when the spec has no categorical features.
 */
export function codedFeaturesSql(inner: string, categorical: readonly string[]): string {
  if (categorical.length === 0) return inner;
  const codes = categorical.map((c, i) => `coalesce(CAST(k${i}.code AS FLOAT), CAST('nan' AS FLOAT)) AS ${sqlIdent(c)}`);
  const joins = categorical.map((c, i) => `LEFT JOIN ${CATEGORIES_TABLE} k${i} ON k${i}."column" = ${sqlString(c)} AND k${i}.value = CAST(f.${sqlIdent(c)} AS VARCHAR)`);
  return `SELECT f.* REPLACE (${codes.join(', ')}) FROM (${inner}) f ${joins.join(' ')}`;
}

/** A dictionary as a model's `sluice.categories` metadata states it: per column, the values with a code of their own in code order, and the rarer ones that share the next code. */
export type CategoryDictionary = Record<string, { codes: string[]; rare: string[] }>;

/** The feature set's dictionary (its `sluice_categories` table), or undefined when it has no categorical features. */
export async function readDictionary(store: ArtifactStore, features: FeatureSet): Promise<CategoryDictionary | undefined> {
  const ref = features.stats?.[CATEGORIES_TABLE];
  if (!features.categorical?.length || !ref) return undefined;
  const file = await store.fetch(ref.uri);
  return withDuckDB(async (connection) => {
    const reader = await connection.runAndReadAll(`SELECT "column", value, code FROM read_parquet(${sqlString(file)}) ORDER BY "column", code, value`);
    const found: CategoryDictionary = {};
    for (const column of features.categorical ?? []) found[column.name] = { codes: [], rare: [] };
    for (const [column, value, code] of reader.getRowsJS() as Array<[string, string, number]>) {
      const entry = found[column];
      const limit = features.categorical?.find((c) => c.name === column)?.codes ?? 0;
      if (entry) (Number(code) < limit ? entry.codes : entry.rare).push(value);
    }
    return found;
  });
}
