
import { chunkSums, type ChunkSumsRequest } from './chunk-sums';
import { planChunks, type RowChunk } from './chunks';
import { addChunkSums, chunkTotals, finishIteration, lineSearch, startIteration, startState, trainerResult, type ChunkSums, type NewtonProblem, type LogisticOptions, type TrainerCheckpoint, type TrainerResult } from '../../../../contracts/newton';

/** The columns to train on and their standardization (columnMoments' mean and std). */
export interface StreamingColumns {
  features: string[];
  /** The SQL reading each design column (absent: the columns of those names). */
  expressions?: string[];
  label: string;
  center: number[];
  scale: number[];
}

export interface StreamingHooks {
  /** Rows per ONNX Runtime run inside a chunk (the reusable buffer's size). */
  batchRows?: number;
  resume?: TrainerCheckpoint;
  /** Called with the checkpoint after every iteration, as trainLogistic calls it. */
  onIteration?: (checkpoint: TrainerCheckpoint) => void | Promise<void>;
}

/**
 * trainLogistic without the matrix in memory: the rows meeting `split.fit` and `split.holdout` are cut
 * into chunks of `rowsPerChunk` and every iteration streams them twice through `chunkSums`, one chunk
 * at a time, in this process. Memory is O(K²) plus one batch buffer, whatever the row count. This is
 * what a single worker would run, and the reference the distributed version must agree with: a
 * workflow makes the same calls, with each `chunkSums` an activity and the chunks in parallel.
 */
export async function trainLogisticStreaming(
  parquetFile: string,
  columns: StreamingColumns,
  split: { fit: string; holdout: string },
  options: LogisticOptions,
  rowsPerChunk: number,
  hooks: StreamingHooks = {},
): Promise<TrainerResult> {
  const fitChunks = await planChunks(parquetFile, split.fit, rowsPerChunk, columns.label);
  const holdoutChunks = await planChunks(parquetFile, split.holdout, rowsPerChunk);
  const fit = chunkTotals(fitChunks);
  const problem: NewtonProblem = { width: columns.features.length + 1, fitRows: fit.rows, holdoutRows: chunkTotals(holdoutChunks).rows, options };
  const base: ChunkSumsRequest = { ...columns, ...(hooks.batchRows ? { batchRows: hooks.batchRows } : {}) };
  const sumOver = async (chunks: RowChunk[], request: Partial<ChunkSumsRequest>): Promise<ChunkSums> => {
    const parts: ChunkSums[] = [];
    for (const chunk of chunks) parts.push(await chunkSums(parquetFile, chunk, { ...base, ...request }));
    return addChunkSums(parts);
  };

  let state = startState(problem, fit.positives, hooks.resume);
  for (let theta = startIteration(problem, state); theta; theta = startIteration(problem, state)) {
    const search = lineSearch(problem, state, await sumOver(fitChunks, { theta }));
    const fitTrials = await sumOver(fitChunks, { trials: search.candidates });
    const holdoutTrials = await sumOver(holdoutChunks, { trials: search.candidates });
    state = finishIteration(problem, state, search, fitTrials, holdoutTrials);
    await hooks.onIteration?.(state.checkpoint);
  }
  return trainerResult(state);
}
