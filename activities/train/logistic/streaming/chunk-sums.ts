import duckdb from '@duckdb/node-bindings';
import * as ort from 'onnxruntime-node';
import { sqlIdent, sqlString, withDuckDB } from '../../../sql/duckdb';
import { chunkCondition, type RowChunk } from './chunks';
import type { ChunkSums } from '../../../../contracts/newton';
import { normalSumsGraph, thetaSumsGraph, trialLossGraph } from './sum-graphs';

export interface ChunkSumsRequest {
  features: string[];
  /** The SQL reading each feature as FLOAT (a design column: a category's indicator), instead of the column of that name. */
  expressions?: string[];
  label: string;
  /** Standardization, as readFeatureMatrix applies it: feature j is stored as (x - center[j]) / scale[j]. */
  center: number[];
  scale: number[];
  /** Σ loss, Σ gradient and Σ Hessian at these parameters (K = features + 1: the weights, then the intercept). */
  theta?: number[];
  /** Σ loss only, at each of these parameter vectors (the line-search candidates), all in the same pass. */
  trials?: number[][];
  /** The normal equations' sums (XᵀX, Xᵀy, Σ y²): the linear regression trainer's one pass. */
  normalEquations?: boolean;
  /** Rows per ONNX Runtime run (the buffer's size, hence the memory used); 65536 unless given. */
  batchRows?: number;
}

const DEFAULT_BATCH_ROWS = 65_536;

/**
 * Streams a chunk's rows out of DuckDB into one reusable float32 batch buffer (standardized with a
 * trailing bias column, exactly as readFeatureMatrix stores them), runs every full batch through
 * ONNX Runtime and adds the batch sums up in float64. Memory is the batch buffer plus O(K²), whatever
 * the chunk's size. The sums are unnormalized and unpenalized: chunks add up (`addChunkSums`), and
 * the driver divides by the total row count.
 */
export async function chunkSums(parquetFile: string, chunk: RowChunk, request: ChunkSumsRequest): Promise<ChunkSums> {
  const { features, label, center, scale, theta, trials = [], expressions, normalEquations } = request;
  const f = features.length;
  const k = f + 1;
  if (center.length !== f || scale.length !== f) throw new Error(`chunkSums: ${f} features but ${center.length} centers and ${scale.length} scales`);
  if (theta && theta.length !== k) throw new Error(`chunkSums: theta has ${theta.length} parameters, expected ${k} (the weights, then the intercept)`);
  trials.forEach((t, i) => {
    if (t.length !== k) throw new Error(`chunkSums: trial ${i} has ${t.length} parameters, expected ${k}`);
  });
  if (request.batchRows !== undefined && !(Number.isSafeInteger(request.batchRows) && request.batchRows > 0)) throw new Error(`chunkSums: batchRows must be a positive integer, got ${request.batchRows}`);
  // No bigger than the chunk: a small chunk gets a small buffer.
  const batchRows = Math.max(1, Math.min(request.batchRows ?? DEFAULT_BATCH_ROWS, chunk.rows));
  const thetaSession = theta ? await session('theta', k) : undefined;
  const trialSession = trials.length > 0 ? await session('trials', k) : undefined;
  const normalSession = normalEquations ? await session('normal', k) : undefined;
  const thetaTensor = theta ? new ort.Tensor('float32', Float32Array.from(theta), [k, 1]) : undefined;
  const trialTensor = trials.length > 0 ? new ort.Tensor('float32', columnsOf(trials, k), [k, trials.length]) : undefined;

  const x = new Float32Array(batchRows * k);
  const y = new Float32Array(batchRows);
  const inverseScale = scale.map((s) => 1 / s);
  let rows = 0;
  let positives = 0;
  const lossSum = new Float64Array(1);
  const gradient = new Float64Array(theta ? k : 0);
  const hessian = new Float64Array(theta ? k * k : 0);
  const trialLossSums = new Float64Array(trials.length);
  const xtx = new Float64Array(normalEquations ? k * k : 0);
  const xty = new Float64Array(normalEquations ? k : 0);
  const yy = new Float64Array(1);

  /** Sums the first `n` rows of the buffer into the float64 totals. */
  const flush = async (n: number) => {
    const inputs = { x: new ort.Tensor('float32', x.subarray(0, n * k), [n, k]), y: new ort.Tensor('float32', y.subarray(0, n), [n, 1]) };
    for (let i = 0; i < n; i++) positives += y[i];
    if (thetaSession && thetaTensor) {
      const out = await thetaSession.run({ ...inputs, theta: thetaTensor });
      add(lossSum, out.lossSum);
      add(gradient, out.gradient);
      add(hessian, out.hessian);
    }
    if (trialSession && trialTensor) add(trialLossSums, (await trialSession.run({ ...inputs, thetas: trialTensor })).lossSums);
    if (normalSession) {
      const out = await normalSession.run(inputs);
      add(xtx, out.xtx);
      add(xty, out.xty);
      add(yy, out.yy);
    }
    rows += n;
  };

  await withDuckDB(async (connection) => {
    const columns = [...features.map((c, j) => expressions?.[j] ?? `CAST(${sqlIdent(c)} AS FLOAT)`), `CAST(${sqlIdent(label)} AS FLOAT)`];
    const result = await connection.stream(`SELECT ${columns.join(', ')} FROM read_parquet(${sqlString(parquetFile)}, file_row_number = true) WHERE ${chunkCondition(chunk)}`);
    let filled = 0;
    for (;;) {
      const data = await result.fetchChunk();
      if (!data || data.rowCount === 0) break;
      const n = data.rowCount;
      const values = features.map((_, j) => columnView(data.chunk, j, n));
      const labels = columnView(data.chunk, f, n);
      for (let start = 0; start < n; ) {
        const take = Math.min(n - start, batchRows - filled);
        for (let j = 0; j < f; j++) {
          const column = values[j];
          const c = center[j];
          const s = inverseScale[j];
          for (let i = 0, at = filled * k + j; i < take; i++, at += k) x[at] = (column[start + i] - c) * s;
        }
        for (let i = 0, at = filled * k + f; i < take; i++, at += k) x[at] = 1;
        y.set(labels.subarray(start, start + take), filled);
        filled += take;
        start += take;
        if (filled === batchRows) {
          await flush(filled);
          filled = 0;
        }
      }
    }
    if (filled > 0) await flush(filled);
  });
  if (rows !== chunk.rows) throw new Error(`chunkSums: read ${rows} rows of ${parquetFile} [${chunk.from}, ${chunk.to}), the plan expected ${chunk.rows}; was the file rewritten since the chunks were planned?`);
  return {
    rows,
    positives,
    ...(theta ? { atTheta: { lossSum: lossSum[0], gradient: Array.from(gradient), hessian: Array.from(hessian) } } : {}),
    ...(trials.length > 0 ? { trialLossSums: Array.from(trialLossSums) } : {}),
    ...(normalEquations ? { normal: { xtx: Array.from(xtx), xty: Array.from(xty), yy: yy[0] } } : {}),
  };
}

/**
 * ONNX Runtime's intra-op threads sleep between runs instead of spinning (as the scoring model runner's
 * do): a chunk alternates DuckDB reading with ORT runs, and spinning threads take the cores from DuckDB.
 * On two cores this halved an iteration (23K-row chunks: 1.7 s → 0.95 s per iteration).
 */
const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = { extra: { session: { intra_op: { allow_spinning: '0' } } } };

/** ORT sessions for this process, by graph and K: built once, then reused by every chunk of every iteration. */
const sessions = new Map<string, Promise<ort.InferenceSession>>();

const GRAPHS = { theta: thetaSumsGraph, trials: trialLossGraph, normal: normalSumsGraph };

function session(kind: keyof typeof GRAPHS, k: number): Promise<ort.InferenceSession> {
  const key = `${kind}:${k}`;
  let created = sessions.get(key);
  if (!created) {
    created = ort.InferenceSession.create(GRAPHS[kind](k), SESSION_OPTIONS);
    // A failed creation is not cached: the next call tries again.
    created.catch(() => sessions.delete(key));
    sessions.set(key, created);
  }
  return created;
}

/** The trials as the columns of a row-major [K, T] matrix. */
function columnsOf(trials: number[][], k: number): Float32Array {
  const t = trials.length;
  const out = new Float32Array(k * t);
  trials.forEach((theta, c) => theta.forEach((v, i) => (out[i * t + c] = v)));
  return out;
}

/** Adds a float64 output of a batch to the chunk's totals. (Checked by `type`, not instanceof: the tensor's array may come from another realm.) */
function add(into: Float64Array, output: ort.Tensor): void {
  if (output.type !== 'float64' || output.size !== into.length) throw new Error(`chunkSums: expected ${into.length} float64 sums from ONNX Runtime, got ${output.size} ${output.type}`);
  const values = output.data as Float64Array;
  for (let i = 0; i < into.length; i++) into[i] += values[i];
}

/** A Float32Array over a FLOAT column's memory in a DuckDB chunk (as readFeatureMatrix reads it); valid while the chunk lives. */
function columnView(chunk: duckdb.DataChunk, column: number, rows: number): Float32Array {
  const bytes = duckdb.vector_get_data(duckdb.data_chunk_get_vector(chunk, column), rows * 4);
  return new Float32Array(bytes.buffer, bytes.byteOffset, rows);
}
