import fs from 'node:fs';
import type { ArtifactRef, ArtifactStore, ColumnInfo } from './artifacts';
import { fingerprintOf } from './artifacts';
import { metered } from './cost';
import { describeQuery, runSpecSql, scalar, sqlIdent, sqlString, withDuckDB } from './duckdb';
import { dataError } from './errors';
import { readPredicate } from './point-in-time';
import { explainSqlError } from './sql-errors';
import { createSourceViews, extractQuery, sourceFingerprints } from './sources';
import type { LoadedSpec } from './spec-loader';
import type { DateWindow } from './spec-schema';

/** Bumped when the extract step's output for the same inputs would change. */
const EXTRACT_VERSION = 2;

export interface ExtractInput {
  loaded: LoadedSpec;
  window: DateWindow;
}

/** The extracted rows, and the newest time in the whole source: labels whose horizon passes it are not known yet. */
export interface ExtractedRows extends ArtifactRef {
  /** `YYYY-MM-DD HH:MM:SS` (absent in artifacts made before point-in-time windows). */
  dataEnd?: string;
}

/**
 * Pulls the rows `window` reads through the spec's source query into one Parquet artifact, ordered by time:
 * its days, `features.lookback` before them and `label.horizon` after them.
 */
export async function extractWindow(store: ArtifactStore, { loaded, window }: ExtractInput) {
  const { spec } = loaded;
  return metered(async (meter) => {
    const read = readPredicate(loaded, { window, horizon: true });
    const fingerprint = fingerprintOf('extract', EXTRACT_VERSION, await sourceFingerprints(loaded), spec.extract.query, spec.extract.time_column, read);
    const output = await store.reuseOrBuild('extract', fingerprint, (staging) =>
      withDuckDB(async (connection): Promise<ExtractedRows> => {
        await createSourceViews(connection, loaded, [spec.extract.query]);
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
