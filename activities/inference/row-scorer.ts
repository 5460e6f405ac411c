/** What scores a shard's rows: the model compiled to native code, or ONNX Runtime. */
export type ScoringEngine = 'compiled-trees' | 'onnxruntime';

/** Scores float32 feature rows; ONNX Runtime's model runner is one, a compiled tree model the other. */
export interface RowScorer {
  readonly width: number;
  readonly engine: ScoringEngine;
  /** The positive class's probability, or the number a regression predicts, for each of `rows` rows of `x`. */
  score(x: Float32Array, rows: number): Float32Array;
  /** Every value of the model's output for `rows` rows, row-major (a multiclass model's probabilities per class). */
  outputs(x: Float32Array, rows: number): Float32Array;
  close(): void;
}
