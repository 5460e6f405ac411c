import fs from 'node:fs';
import { type ArtifactStore, fingerprintOf } from '../storage/artifact-store';
import { metered } from '../cost/meter';
import { describeQuery, runSpecSql, scalar, sqlIdent, sqlString, withDuckDB } from '../sql/duckdb';
import { dataError } from '../../contracts/errors';
import { readPredicate } from '../features/point-in-time';
import { explainSqlError } from '../sql/sql-errors';
import { createSourceViews, extractQuery, sourceFingerprints } from '../sources/sources';
import { hashSplitOf, type DateWindow, type LoadedSpec } from '../../contracts/spec';
import type { ColumnInfo, ExtractedRows } from '../../contracts/artifacts';

/** Bumped when the extract step's output for the same inputs would change. */
const EXTRACT_VERSION = 2;

export interface ExtractInput {
  loaded: LoadedSpec;
  window: DateWindow;
}

/**
 * Pulls the rows `window` reads through the spec's source query into one Parquet artifact, ordered by time:
 * its days, `features.lookback` before them and `label.horizon` after them.
 */
export async function extractWindow(store: ArtifactStore, { loaded, window }: ExtractInput) {
  const { spec } = loaded;
  return metered(async (meter) => {
    const read = readPredicate(loaded, { window, horizon: true });
    const hash = hashSplitOf(spec);
    // A hash split's rows carry their bucket, which its keys and seed decide (a time split's fingerprint is the one it had before).
    const fingerprint = fingerprintOf('extract', EXTRACT_VERSION, await sourceFingerprints(loaded), spec.extract.query, spec.extract.time_column, read, ...(hash ? [JSON.stringify(hash)] : []));
    const output = await store.reuseOrBuild('extract', fingerprint, (staging) =>
      withDuckDB(async (connection): Promise<ExtractedRows> => {
        await createSourceViews(connection, loaded, [spec.extract.query]);
        if (hash) {
          // A hash split's bucket is computed from key columns of the query's own output.
          const own = await runSpecSql('extract.query', () => describeQuery(connection, `(\n${spec.extract.query.trim().replace(/;\s*$/, '')}\n)`)).catch(async (err: unknown) => {
            throw await explainSqlError(connection, loaded, Object.keys(spec.sources), err);
          });
          for (const key of hash.keys) {
            if (!own.some((c) => c.name === key)) throw dataError(`split.keys: \`${key}\` is not an output column of extract.query (columns: ${own.map((c) => c.name).join(', ')})`);
          }
        }
        const query = extractQuery(loaded);
        const columns: ColumnInfo[] = await runSpecSql('extract.query', () => describeQuery(connection, `(${query})`)).catch(async (err: unknown) => {
          throw await explainSqlError(connection, loaded, Object.keys(spec.sources), err);
        });
        if (!columns.some((c) => c.name === spec.extract.time_column)) {
          throw dataError(
            `extract.time_column: column \`${spec.extract.time_column}\` is not in the output of extract.query (columns: ${columns.map((c) => c.name).join(', ')})`,
          );
        }
        const file = staging.file('rows.parquet');
        const time = sqlIdent(spec.extract.time_column);
        const select = `SELECT * FROM (${query}) WHERE ${read} ORDER BY ${time}`;
        await runSpecSql('extract.query', () => connection.run(`COPY (${select}) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd)`));
        const rows = Number(await scalar(connection, `SELECT count(*) FROM read_parquet(${sqlString(file)})`));
        if (rows === 0) throw dataError(`extract: the source query returned no rows for ${window.from} .. ${window.to} (extract.time_column: ${spec.extract.time_column})`);
        const dataEnd = await runSpecSql('extract.query', () => scalar(connection, `SELECT strftime(max(CAST(${time} AS TIMESTAMP)), '%Y-%m-%d %H:%M:%S.%f') FROM (${query})`));
        return { uri: staging.uriOf('rows.parquet'), fingerprint, rows, bytes: fs.statSync(file).size, columns, dataEnd: String(dataEnd) };
      }, { confineTo: [store.root] }),
    );
    meter.rowsOut = output.value.rows;
    meter.bytesOut = output.value.bytes;
    return { extracted: output.value, reused: output.reused };
  });
}
