import fs from 'node:fs';
import type { ArtifactRef, ArtifactStore, ColumnInfo } from './artifacts';
import { fingerprintOf } from './artifacts';
import { metered } from './cost';
import { describeQuery, runSpecSql, scalar, sqlIdent, sqlString, withDuckDB } from './duckdb';
import { dataError } from './errors';
import { createSourceViews, extractQuery, sourceFingerprints, windowPredicate } from './sources';
import type { LoadedSpec } from './spec-loader';
import type { DateWindow } from './spec-schema';

/** Bumped when the extract step's output for the same inputs would change. */
const EXTRACT_VERSION = 1;

export interface ExtractInput {
  loaded: LoadedSpec;
  window: DateWindow;
}

/** Pulls the rows of `window` through the spec's source query into one Parquet artifact, ordered by time. */
export async function extractWindow(store: ArtifactStore, { loaded, window }: ExtractInput) {
  const { spec } = loaded;
  return metered(async (meter) => {
    const fingerprint = fingerprintOf('extract', EXTRACT_VERSION, sourceFingerprints(loaded), spec.extract.query, spec.extract.time_column, window.from, window.to);
    const output = await store.reuseOrBuild('extract', fingerprint, (staging) =>
      withDuckDB(async (connection): Promise<ArtifactRef> => {
        await createSourceViews(connection, loaded, [spec.extract.query]);
        const query = extractQuery(loaded);
        const columns: ColumnInfo[] = await runSpecSql('extract.query', () => describeQuery(connection, `(${query})`));
        if (!columns.some((c) => c.name === spec.extract.time_column)) {
          throw dataError(
            `extract.time_column: column \`${spec.extract.time_column}\` is not in the output of extract.query (columns: ${columns.map((c) => c.name).join(', ')})`,
          );
        }
        const file = staging.file('rows.parquet');
        const select = `SELECT * FROM (${query}) WHERE ${windowPredicate(spec.extract.time_column, window)} ORDER BY ${sqlIdent(spec.extract.time_column)}`;
        await runSpecSql('extract.query', () => connection.run(`COPY (${select}) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd)`));
        const rows = Number(await scalar(connection, `SELECT count(*) FROM read_parquet(${sqlString(file)})`));
        if (rows === 0) throw dataError(`extract: the source query returned no rows for ${window.from} .. ${window.to} (extract.time_column: ${spec.extract.time_column})`);
        return { uri: staging.uriOf('rows.parquet'), fingerprint, rows, bytes: fs.statSync(file).size, columns };
      }),
    );
    meter.rowsOut = output.value.rows;
    meter.bytesOut = output.value.bytes;
    return { extracted: output.value, reused: output.reused };
  });
}
