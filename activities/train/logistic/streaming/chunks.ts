import { sqlIdent, sqlString, withDuckDB } from '../../../sql/duckdb';

/**
 * A piece of a Parquet file's rows for one streaming pass: the rows at positions `from` ≤
 * file_row_number < `to` that meet `where`. A chunk is a few numbers and a condition, so it fits in
 * an activity's input, and any process that can read the file can sum its rows.
 */
export interface RowChunk {
  /** First row position (file_row_number) of the range. */
  from: number;
  /** One past the last row position of the range. */
  to: number;
  /** How many rows of the range meet `where`: what a reader of the chunk must find. */
  rows: number;
  /** The condition the chunk's rows meet (the holdout split's `fit` or `holdout`), when there is one. */
  where?: string;
  /** Σ label over the chunk's rows, when `planChunks` was given the label column. */
  positives?: number;
}

/**
 * Cuts the rows of `parquetFile` that meet `where` into consecutive chunks of `rowsPerChunk` of them
 * (the last one smaller). The chunks cover exactly the rows meeting `where`, each once, whatever the
 * condition looks like (a day condition, a row-position condition, none). When `label` is given each
 * chunk also carries Σ label (cast to FLOAT, as readFeatureMatrix reads it), which the driver needs for
 * its starting intercept, so no pass over the feature columns is spent on it.
 */
export async function planChunks(parquetFile: string, where: string | undefined, rowsPerChunk: number, label?: string): Promise<RowChunk[]> {
  if (!Number.isSafeInteger(rowsPerChunk) || rowsPerChunk < 1) throw new Error(`planChunks: rowsPerChunk must be a positive integer, got ${rowsPerChunk}`);
  return withDuckDB(async (connection) => {
    const source = `read_parquet(${sqlString(parquetFile)}, file_row_number = true)${where ? ` WHERE ${where}` : ''}`;
    const labelSum = label ? `sum(CAST(${sqlIdent(label)} AS FLOAT))` : 'NULL';
    const numbered = label ? `file_row_number, ${sqlIdent(label)}` : 'file_row_number';
    const reader = await connection.runAndReadAll(
      `SELECT min(file_row_number), max(file_row_number) + 1, count(*), ${labelSum}
       FROM (SELECT ${numbered}, (row_number() OVER (ORDER BY file_row_number) - 1) // ${rowsPerChunk} AS chunk FROM ${source})
       GROUP BY chunk ORDER BY chunk`,
    );
    return reader.getRowsJS().map(([from, to, rows, positives]) => ({
      from: Number(from),
      to: Number(to),
      rows: Number(rows),
      ...(where ? { where } : {}),
      ...(label ? { positives: Number(positives) } : {}),
    }));
  });
}

/** The SQL condition selecting exactly a chunk's rows (its range, and its `where` if any). */
export function chunkCondition(chunk: RowChunk): string {
  const range = `file_row_number >= ${chunk.from} AND file_row_number < ${chunk.to}`;
  return chunk.where ? `(${chunk.where}) AND ${range}` : range;
}
