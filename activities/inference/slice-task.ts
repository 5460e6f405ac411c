import type { LoadedSpec, DateWindow } from '../../contracts/spec';
import type { ScorerChoice } from './scorer';
import type { SliceModel } from './stage-slice';
import type { FeatureProfile } from '../../contracts/checks';

/** One slice for a scoring thread: what to read, score and write, with everything already local. */
export interface SliceTask {
  loaded: LoadedSpec;
  /** The model's statistics tables, by name: local Parquet files. */
  statsFiles: Record<string, string>;
  model: SliceModel & { uri: string; file: string };
  scorer: ScorerChoice;
  runId: string;
  window: DateWindow;
  snapshot?: string;
  /** The folder the slice is written into (renamed into place by the shard when the slice is complete). */
  dir: string;
  /** Folders the thread's DuckDB may read and write besides the data roots. */
  confineTo: string[];
  /** Rows between two progress reports. */
  progressRows: number;
  /** The model's validation distribution per feature, in its feature order: the scored rows are binned alike, for per-day drift. */
  profile?: Array<FeatureProfile | undefined>;
  /** Bin every how many rows (a systematic sample of big days, see driftStride). */
  driftStride?: number;
  /** Set to 1 (Atomics) by the shard to stop the slice within a chunk: a cancelled run, or a failed sibling slice. */
  stop: SharedArrayBuffer;
}

/** What a thread answers: progress while it scores, then the slice's rows and unseen-category counts, or its error. */
export type SliceMessage =
  | { kind: 'progress'; rows: number }
  | { kind: 'done'; rows: number; unseen: Record<string, Record<string, number>>; bins?: Record<string, number[]> }
  | { kind: 'failed'; error: SerializedError };

/** An error as it crosses the thread boundary: an ApplicationFailure keeps its type and retryability. */
export interface SerializedError {
  message: string;
  name: string;
  type?: string | null;
  nonRetryable?: boolean | null;
}
