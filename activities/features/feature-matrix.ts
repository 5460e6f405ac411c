import duckdb from '@duckdb/node-bindings';
import { scalar, sqlIdent, sqlString, withDuckDB } from '../sql/duckdb';

/** A dense row-major float32 matrix with its labels, ready to be an ONNX Runtime tensor. */
export interface FeatureMatrix {
  rows: number;
  /** Columns per row (the features, plus one for the bias when requested). */
  width: number;
  x: Float32Array;
  /** Labels as 0/1, when a label column was read. */
  y?: Float32Array;
}

export interface ReadMatrixOptions {
  features: string[];
  /** The SQL reading each feature as FLOAT (a design column), instead of the column of that name. */
  expressions?: string[];
  label?: string;
  /** When given, each feature j is stored as (x - center[j]) / scale[j]. */
  center?: number[];
  scale?: number[];
  /** Append a constant 1 column (for an intercept). */
  bias?: boolean;
  /** Only rows meeting this SQL condition (it may use `file_row_number`, the row's position in the file). */
  where?: string;
}

/**
 * Reads float columns of a Parquet file into one row-major Float32Array. Each DuckDB chunk's column
 * memory is viewed in place (no per-value conversion to JS values) and interleaved into the matrix.
 */
export async function readFeatureMatrix(parquetFile: string, options: ReadMatrixOptions): Promise<FeatureMatrix> {
  const { features, label, center, scale, bias, where, expressions } = options;
  return withDuckDB(async (connection) => {
    const source = `read_parquet(${sqlString(parquetFile)}, file_row_number = true)${where ? ` WHERE ${where}` : ''}`;
    const rows = Number(await scalar(connection, `SELECT count(*) FROM ${source}`));
    const width = features.length + (bias ? 1 : 0);
    const x = new Float32Array(rows * width);
    const y = label ? new Float32Array(rows) : undefined;
    const columns = [...features.map((c, j) => expressions?.[j] ?? `CAST(${sqlIdent(c)} AS FLOAT)`), ...(label ? [`CAST(${sqlIdent(label)} AS FLOAT)`] : [])];
    const result = await connection.stream(`SELECT ${columns.join(', ')} FROM ${source}`);
    let offset = 0;
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const n = chunk.rowCount;
      for (let j = 0; j < features.length; j++) {
        const values = columnView(chunk.chunk, j, n);
        const c = center ? center[j] : 0;
        const s = scale ? 1 / scale[j] : 1;
        for (let i = 0, at = offset * width + j; i < n; i++, at += width) x[at] = (values[i] - c) * s;
      }
      if (bias) for (let i = 0, at = offset * width + features.length; i < n; i++, at += width) x[at] = 1;
      if (y) y.set(columnView(chunk.chunk, features.length, n), offset);
      offset += n;
    }
    if (offset !== rows) throw new Error(`read ${offset} rows from ${parquetFile}, expected ${rows}`);
    return { rows, width, x, y };
  });
}

/** A Float32Array over a FLOAT column's memory in a chunk; valid while the chunk lives. */
function columnView(chunk: duckdb.DataChunk, column: number, rows: number): Float32Array {
  const bytes = duckdb.vector_get_data(duckdb.data_chunk_get_vector(chunk, column), rows * 4);
  return new Float32Array(bytes.buffer, bytes.byteOffset, rows);
}

/** Per-column mean and standard deviation (population), for standardization; a constant column gets scale 1. */
export async function columnMoments(parquetFile: string, features: string[], expressions?: string[]): Promise<{ mean: number[]; std: number[] }> {
  return withDuckDB(async (connection) => {
    const aggregates = features.flatMap((c, j) => {
      const value = expressions?.[j] ?? sqlIdent(c);
      return [`avg(${value})`, `stddev_pop(${value})`];
    });
    const reader = await connection.runAndReadAll(`SELECT ${aggregates.join(', ')} FROM read_parquet(${sqlString(parquetFile)})`);
    const row = reader.getRowsJS()[0].map(Number);
    const mean = features.map((_, j) => row[2 * j]);
    const std = features.map((_, j) => (row[2 * j + 1] > 1e-12 ? row[2 * j + 1] : 1));
    return { mean, std };
  });
}
