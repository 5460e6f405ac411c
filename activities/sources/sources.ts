import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { fileFingerprint } from '../storage/artifact-store';
import { insideDataRoots } from '../storage/data-roots';
import { formatOf } from './formats';
import { runSpecSql, scalar, sqlIdent, sqlString, withDuckDB } from '../sql/duckdb';
import { dataError } from '../../contracts/errors';
import { insideS3Roots } from '../storage/s3-roots';
import { localCopyOf } from './s3-sources';
import { withSplitDay } from './hash-split';
import type { DateWindow, LoadedSpec } from '../../contracts/spec';

/**
 * Local path of each named source, resolved from the spec's folder; a missing file is a precise data error.
 * An `s3://` source (inside SLUICE_S3_ROOTS) is the worker's local copy of the object's current version.
 */
export async function resolveSources(loaded: LoadedSpec): Promise<Record<string, string>> {
  const resolved: Record<string, string> = {};
  for (const [name, source] of Object.entries(loaded.spec.sources)) {
    if (source.path.startsWith('s3://')) {
      resolved[name] = await localCopyOf(insideS3Roots(source.path, `sources.${name}.path`, loaded.file), `sources.${name}.path`, loaded.file);
      continue;
    }
    const file = insideDataRoots(path.resolve(loaded.baseDir, source.path), `sources.${name}.path`, loaded.file);
    if (!fs.existsSync(file)) throw dataError(`${loaded.file}: sources.${name}.path: file not found: ${source.path}`);
    resolved[name] = file;
  }
  return resolved;
}

/** Content fingerprints of every source, in name order, for step fingerprints. */
export async function sourceFingerprints(loaded: LoadedSpec): Promise<string> {
  const files = await resolveSources(loaded);
  return Object.keys(files)
    .sort()
    .map((name) => `${name}=${fileFingerprint(files[name])}`)
    .join(',');
}

/**
 * Makes the sources that `sql` mentions queryable under their spec names, so spec SQL can say `FROM flights`,
 * each through its format plug-in (formats/: a Parquet source is a view that filters push down into, a CSV
 * or Arrow file is loaded into a table once). A source no statement mentions is not opened, so a step fails
 * only on its own inputs.
 */
export async function createSourceViews(connection: DuckDBConnection, loaded: LoadedSpec, sql: string[]): Promise<void> {
  const files = await resolveSources(loaded);
  for (const [name, file] of Object.entries(files)) {
    if (!sql.some((text) => new RegExp(`\\b${name}\\b`, 'i').test(text))) continue;
    await formatOf(file, loaded.spec.sources[name].format).open(connection, name, file, `sources.${name}.path`);
  }
}

/** Every SQL text of a spec's feature definition (the statistics and the feature query). */
export function featureSql(loaded: LoadedSpec): string[] {
  return [...Object.values(loaded.spec.features.stats), loaded.spec.features.sql];
}

/** The spec's extract query, without a trailing semicolon, ready to nest (on lines of its own, so a trailing comment ends there). */
export function extractQuery(loaded: LoadedSpec): string {
  return withSplitDay(loaded, `\n${loaded.spec.extract.query.trim().replace(/;\s*$/, '')}\n`);
}

/** The spec's feature query, ready to nest; a hash split's with each row's bucket day (computed from its keys, as in {@link extractQuery}). */
export function featuresQuery(loaded: LoadedSpec): string {
  return withSplitDay(loaded, `\n${loaded.spec.features.sql}\n`);
}

/** SQL condition selecting the whole days of `window` on `column`. */
export function windowPredicate(column: string, window: DateWindow): string {
  return `${sqlIdent(column)} >= DATE ${sqlString(window.from)} AND ${sqlIdent(column)} < DATE ${sqlString(window.to)} + INTERVAL 1 DAY`;
}

/** The newest day (`YYYY-MM-DD`) the spec's extract query returns: what "score the latest partition" scores. */
export async function newestDay(loaded: LoadedSpec): Promise<string> {
  const { spec } = loaded;
  return withDuckDB(async (connection) => {
    await createSourceViews(connection, loaded, [spec.extract.query]);
    const query = extractQuery(loaded);
    const day = await runSpecSql('extract.query', () => scalar(connection, `SELECT strftime(max(CAST(${sqlIdent(spec.extract.time_column)} AS DATE)), '%Y-%m-%d') FROM (${query})`));
    if (day === null || day === undefined) throw dataError(`extract.query: the source has no rows, so it has no newest partition`);
    return String(day);
  }, { confineTo: [] });
}
