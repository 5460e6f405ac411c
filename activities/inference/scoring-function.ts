import duckdb from '@duckdb/node-bindings';
import { ARRAY, FLOAT, type DuckDBConnection } from '@duckdb/node-api';
import type { ModelRunner } from './model-runner';

/** What a scoring function saw: rows scored, and rows refused per feature (NULL, NaN or ±inf). */
export interface ScoringTally {
  rows: number;
  badRows: number;
  badByFeature: number[];
  /** An error raised while scoring (model, progress report); DuckDB reports it as text, this keeps its type. */
  error?: unknown;
}

/**
 * Registers `name(features FLOAT[width]) → FLOAT` on the connection, scoring with `runner`. DuckDB
 * calls it once per flattened chunk of about 2,048 rows from its worker threads while the query runs,
 * so features are computed, scored and written in one pipeline: the rows go to ONNX Runtime straight
 * from DuckDB's memory and the scores straight into DuckDB's output vector, with no table in between.
 * Rows with a NULL, NaN or infinite feature are counted (per feature) and not scored; the caller
 * refuses the result when the tally has any.
 */
export function registerScoringFunction(connection: DuckDBConnection, name: string, runner: ModelRunner, onRows?: (rows: number) => void): ScoringTally {
  const width = runner.width;
  const tally: ScoringTally = { rows: 0, badRows: 0, badByFeature: new Array<number>(width).fill(0) };
  const fn = duckdb.create_scalar_function();
  duckdb.scalar_function_set_name(fn, name);
  duckdb.scalar_function_add_parameter(fn, ARRAY(FLOAT, width).toLogicalType().logical_type);
  duckdb.scalar_function_set_return_type(fn, FLOAT.toLogicalType().logical_type);
  duckdb.scalar_function_set_function(fn, (_info, input, output) => {
    try {
      const n = duckdb.data_chunk_get_size(input);
      const array = duckdb.data_chunk_get_vector(input, 0);
      const child = duckdb.array_vector_get_child(array);
      const bytes = duckdb.vector_get_data(child, n * width * 4);
      const x = new Float32Array(bytes.buffer, bytes.byteOffset, n * width);
      const bad = badRows(x, n, width, duckdb.vector_get_validity(array, n), duckdb.vector_get_validity(child, n * width), tally.badByFeature);
      tally.rows += n;
      tally.badRows += bad;
      if (tally.badRows === 0) {
        const scores = runner.score(x, n);
        duckdb.copy_data_to_vector(output, 0, scores.buffer as ArrayBuffer, scores.byteOffset, n * 4);
      }
      onRows?.(tally.rows);
    } catch (err) {
      // DuckDB turns a thrown error into its own text; the caller rethrows this one, type and all.
      tally.error = err;
      throw err;
    }
  });
  try {
    duckdb.register_scalar_function((connection as unknown as { connection: duckdb.Connection }).connection, fn);
  } finally {
    duckdb.destroy_scalar_function_sync(fn);
  }
  return tally;
}

/** Counts rows with a NULL array, a NULL element or a NaN/±inf value, adding each bad value to its feature's count. */
function badRows(x: Float32Array, n: number, width: number, arrayValid: Uint8Array | null, valuesValid: Uint8Array | null, byFeature: number[]): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i];
  if (Number.isFinite(sum) && allSet(arrayValid, n) && allSet(valuesValid, n * width)) return 0;
  let bad = 0;
  for (let r = 0; r < n; r++) {
    const nullRow = arrayValid !== null && !bit(arrayValid, r);
    let rowBad = nullRow;
    for (let k = 0; k < width; k++) {
      const at = r * width + k;
      if (nullRow || (valuesValid !== null && !bit(valuesValid, at)) || !Number.isFinite(x[at])) {
        byFeature[k]++;
        rowBad = true;
      }
    }
    if (rowBad) bad++;
  }
  return bad;
}

/** DuckDB validity masks are little-endian 64-bit words: bit i set = row i valid; no mask = all valid. */
function bit(mask: Uint8Array, i: number): boolean {
  return ((mask[i >> 3] >> (i & 7)) & 1) === 1;
}

function allSet(mask: Uint8Array | null, count: number): boolean {
  if (mask === null) return true;
  const full = count >> 3;
  for (let b = 0; b < full; b++) if (mask[b] !== 0xff) return false;
  for (let i = full * 8; i < count; i++) if (!bit(mask, i)) return false;
  return true;
}
