import type { DuckDBConnection } from '@duckdb/node-api';
import type { ArtifactStore } from '../storage/artifact-store';
import { describeQuery, runSpecSql, sqlIdent, sqlString } from '../sql/duckdb';
import { dataError } from '../../contracts/errors';
import { codedFeaturesSql } from '../features/categories';
import { labelledRowsSql, readPredicate, windowFeaturesSql } from '../features/point-in-time';
import { createSourceViews, extractQuery, featureSql, featuresQuery } from '../sources/sources';
import type { DateWindow, LoadedSpec } from '../../contracts/spec';
import type { ArtifactRef, ColumnInfo } from '../../contracts/artifacts';

/**
 * Prepares a connection to run the spec's feature SQL — the very definition training used — over new
 * rows: the sources, the statistics tables learned from the training window (`statsFiles`: each table's local
 * Parquet file, from the model's feature-set artifacts, never recomputed from new data), and `source` for `window`.
 */
export async function prepareFeatureContext(connection: DuckDBConnection, loaded: LoadedSpec, statsFiles: Record<string, string>, moreSql: string[] = []): Promise<void> {
  await createSourceViews(connection, loaded, [loaded.spec.extract.query, ...featureSql(loaded), ...moreSql]);
  for (const [name, file] of Object.entries(statsFiles)) {
    await connection.run(`CREATE OR REPLACE TABLE ${sqlIdent(name)} AS SELECT * FROM read_parquet(${sqlString(file)})`);
  }
}

/** The statistics tables' files, fetched from the store: by table name, a local Parquet file each. */
export async function fetchStats(store: Pick<ArtifactStore, 'fetch'>, stats: Record<string, ArtifactRef>): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const [name, ref] of Object.entries(stats)) files[name] = await store.fetch(ref.uri);
  return files;
}

/**
 * `source` = the extract query's rows `window` reads (its days and `features.lookback` before them, never the
 * label horizon after), with the label column computed where the new data allows it (and NULL where it does
 * not: inference data need not have outcomes, and point-in-time features never read them).
 */
export async function selectSource(connection: DuckDBConnection, loaded: LoadedSpec, window: DateWindow): Promise<void> {
  const { spec } = loaded;
  const rows = `(${extractQuery(loaded)})`;
  try {
    await connection.run(`CREATE OR REPLACE VIEW source AS ${labelledRowsSql(loaded, rows, { window, horizon: false })}`);
    await describeQuery(connection, 'source');
  } catch {
    const unlabelled = `SELECT *, NULL::BOOLEAN AS ${sqlIdent(spec.label.name)} FROM ${rows} WHERE ${readPredicate(loaded, { window, horizon: false })}`;
    await runSpecSql('extract.query', () => connection.run(`CREATE OR REPLACE VIEW source AS ${unlabelled}`));
  }
}

/** The feature SQL's output columns over the current `source`; a SQL error here means the input changed shape. */
export async function describeFeatures(connection: DuckDBConnection, loaded: LoadedSpec, where: string): Promise<ColumnInfo[]> {
  try {
    return await describeQuery(connection, `(${featuresQuery(loaded)})`);
  } catch (err) {
    const message = String((err as { message?: unknown }).message ?? err).split('\n')[0];
    throw dataError(`schema drift in ${where}: features.sql no longer runs on this input (${message})`);
  }
}

/** Refuses features whose names or types differ from the schema the model was trained on, listing each difference. */
export function checkSchema(expected: ColumnInfo[], actual: ColumnInfo[], where: string, modelName: string): void {
  const byName = new Map(actual.map((c) => [c.name, c.type]));
  const problems = expected.flatMap((c) => {
    const type = byName.get(c.name);
    if (type === undefined) return [`\`${c.name}\` is missing`];
    if (type !== c.type) return [`\`${c.name}\` is ${type}, the model was trained on ${c.type}`];
    return [];
  });
  if (problems.length > 0) throw dataError(`schema drift in ${where}: ${problems.join('; ')} (input schema of ${modelName}); nothing was published`);
}

/** `SELECT day, keys…, features as one FLOAT[F] array` over the feature SQL (categories coded), for the rows of `window` (into `snapshot`'s partition when given): rows ready for the model. */
export function scoringSelect(loaded: LoadedSpec, featureNames: string[], window: DateWindow, snapshot?: string): string {
  const { spec } = loaded;
  // A hash split's rows are written into the run's snapshot partition, not the days of their hash buckets.
  const day = snapshot ? `DATE ${sqlString(snapshot)} AS day` : `CAST(${sqlIdent(spec.extract.time_column)} AS DATE) AS day`;
  const keys = spec.features.keys.map(sqlIdent);
  const features = `[${featureNames.map((n) => `CAST(${sqlIdent(n)} AS FLOAT)`).join(', ')}]::FLOAT[${featureNames.length}] AS features`;
  // Categories coded by the dictionary training learned (loaded with the statistics).
  return `SELECT ${[day, ...keys, features].join(', ')} FROM (${codedFeaturesSql(windowFeaturesSql(loaded, window), spec.features.categorical ?? [])})`;
}
