import duckdb from '@duckdb/node-bindings';
import { ARRAY, FLOAT, INTEGER, type DuckDBConnection } from '@duckdb/node-api';
import type { RowScorer } from './row-scorer';
import type { FeatureBinner } from '../checks/drift';

/** What a scoring function saw: rows scored, and rows refused per feature (NULL, NaN or ±inf). */
export interface ScoringTally {
  rows: number;
  badRows: number;
  badByFeature: number[];
  /**
   * Rows whose categorical feature was missing (NaN: a category training never saw), by the row's group (the
   * function's second argument) and feature; scored, not refused. Empty without categorical features.
   */
  unseen: Map<number, number[]>;
  /** Rows per feature bin (the binner's layout), by the row's group: the day's feature distribution, for its drift. Empty without a binner. */
  bins: Map<number, Float64Array>;
  /** An error raised while scoring (model, progress report); DuckDB reports it as text, this keeps its type. */
  error?: unknown;
}

export interface ScoringOptions {
  /** Called with the rows scored so far after every chunk. */
  onRows?: (rows: number) => void;
  /**
   * By feature position, whether it is categorical: NaN there (a category the dictionary lacks) is a missing
   * value the model handles, counted in `unseen`, not refused. With any, the function takes a second argument,
   * `group INTEGER`, the key the counts are kept under (the row's day).
   */
  categorical?: readonly boolean[];
  /** Bins every scored row's features by its group (the second argument, the row's day), for per-feature drift. */
  binner?: FeatureBinner;
  /** Bin every how many rows (1: all). */
  binStride?: number;
  /** Values the model gives per row: 1 (a probability or a number: the function returns FLOAT), or a multiclass model's classes (FLOAT[classes]). */
  outputs?: number;
}

/**
 * Registers `name(features FLOAT[width]) → FLOAT` (or `name(features, group INTEGER)` with categorical features;
 * `→ FLOAT[classes]` for a multiclass model)
 * on the connection, scoring with `runner`. DuckDB calls it once per flattened chunk of about 2,048 rows from its
 * worker threads while the query runs, so features are computed, scored and written in one pipeline: the rows go
 * to ONNX Runtime straight from DuckDB's memory and the scores straight into DuckDB's output vector, with no table
 * in between. Rows with a NULL, NaN or infinite feature are counted (per feature) and not scored; the caller
 * refuses the result when the tally has any. A categorical feature's NaN is the exception: see {@link ScoringOptions}.
 */
export function registerScoringFunction(connection: DuckDBConnection, name: string, runner: RowScorer, options: ScoringOptions = {}): ScoringTally {
  const width = runner.width;
  const categorical = options.categorical?.some(Boolean) ? options.categorical : undefined;
  const { binner } = options;
  // The row's group (its day) is the second argument when unseen categories or feature bins are counted by it.
  const grouped = categorical !== undefined || binner !== undefined;
  const outputs = options.outputs ?? 1;
  const tally: ScoringTally = { rows: 0, badRows: 0, badByFeature: new Array<number>(width).fill(0), unseen: new Map(), bins: new Map() };
  const fn = duckdb.create_scalar_function();
  duckdb.scalar_function_set_name(fn, name);
  duckdb.scalar_function_add_parameter(fn, ARRAY(FLOAT, width).toLogicalType().logical_type);
  if (grouped) duckdb.scalar_function_add_parameter(fn, INTEGER.toLogicalType().logical_type);
  duckdb.scalar_function_set_return_type(fn, (outputs === 1 ? FLOAT : ARRAY(FLOAT, outputs)).toLogicalType().logical_type);
  duckdb.scalar_function_set_function(fn, (_info, input, output) => {
    try {
      const n = duckdb.data_chunk_get_size(input);
      const array = duckdb.data_chunk_get_vector(input, 0);
      const child = duckdb.array_vector_get_child(array);
      const bytes = duckdb.vector_get_data(child, n * width * 4);
      const x = new Float32Array(bytes.buffer, bytes.byteOffset, n * width);
      const groups = grouped
        ? () => {
            const data = duckdb.vector_get_data(duckdb.data_chunk_get_vector(input, 1), n * 4);
            return new Int32Array(data.buffer, data.byteOffset, n);
          }
        : undefined;
      const bad = badRows(x, n, width, duckdb.vector_get_validity(array, n), duckdb.vector_get_validity(child, n * width), tally, categorical, groups);
      tally.rows += n;
      tally.badRows += bad;
      if (binner && groups && bad === 0) binner.add(x, n, width, groups(), tally.bins, options.binStride);
      if (tally.badRows === 0 && outputs === 1) {
        const scores = runner.score(x, n);
        duckdb.copy_data_to_vector(output, 0, scores.buffer as ArrayBuffer, scores.byteOffset, n * 4);
      } else if (tally.badRows === 0) {
        const values = runner.outputs(x, n);
        if (values.length !== n * outputs) throw new Error(`the model gives ${values.length} values for ${n} rows of ${outputs} classes`);
        duckdb.copy_data_to_vector(duckdb.array_vector_get_child(output), 0, values.buffer as ArrayBuffer, values.byteOffset, n * outputs * 4);
      }
      options.onRows?.(tally.rows);
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

/**
 * Counts rows with a NULL array, a NULL element or a NaN/±inf value, adding each bad value to its feature's count;
 * a NaN of a categorical feature is counted in `tally.unseen` under the row's group instead.
 */
function badRows(
  x: Float32Array,
  n: number,
  width: number,
  arrayValid: Uint8Array | null,
  valuesValid: Uint8Array | null,
  tally: ScoringTally,
  categorical?: readonly boolean[],
  groups?: () => Int32Array,
): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i];
  if (Number.isFinite(sum) && allSet(arrayValid, n) && allSet(valuesValid, n * width)) return 0;
  const group = groups?.();
  let bad = 0;
  for (let r = 0; r < n; r++) {
    const nullRow = arrayValid !== null && !bit(arrayValid, r);
    let rowBad = nullRow;
    for (let k = 0; k < width; k++) {
      const at = r * width + k;
      const isNull = nullRow || (valuesValid !== null && !bit(valuesValid, at));
      if (!isNull && categorical?.[k] && Number.isNaN(x[at]) && group) {
        const key = group[r];
        const counts = tally.unseen.get(key) ?? new Array<number>(width).fill(0);
        counts[k]++;
        tally.unseen.set(key, counts);
      } else if (isNull || !Number.isFinite(x[at])) {
        tally.badByFeature[k]++;
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
