import fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { modelError } from '../../contracts/errors';
import type { RowScorer } from './row-scorer';

/** The synchronous session onnxruntime-node's public `InferenceSession` wraps in a promise. */
interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  readonly inputMetadata: { name: string }[];
  readonly outputMetadata: { name: string }[];
  run(feeds: Record<string, ort.Tensor>, fetches: Record<string, null>, options: object): Record<string, { data: unknown }>;
  dispose(): void;
}

// onnxruntime-node (pinned in package.json) runs a session synchronously on the calling thread and
// only defers the result to a later tick. Scoring inside a DuckDB scalar function needs the result
// before the callback returns, so the runner drives the native session directly.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const native = require('onnxruntime-node/dist/binding') as { binding: { InferenceSession: new () => NativeSession }; initOrt(): void };

/**
 * ONNX Runtime's intra-op threads sleep between runs instead of spinning: scoring shares the cores with
 * DuckDB's threads (features, Parquet), and spinning threads take cycles from them. Measured on all 3M
 * flights rows, two cores: a 300-tree LightGBM model 26.8 s spinning, 20.3 s not; the logistic model
 * 4.6 s either way.
 */
const SESSION_OPTIONS = { extra: { session: { intra_op: { allow_spinning: '0' } } } };

/**
 * Scores float32 feature rows with an ONNX model: Sluice's own (`probability` [N]) or one trained
 * elsewhere, e.g. scikit-learn via skl2onnx (`probabilities` [N,2], class 1 taken). Only tensor outputs
 * are fetched, so models with a ZipMap output work too as long as they also output a tensor.
 */
export class ModelRunner implements RowScorer {
  readonly engine = 'onnxruntime';
  private constructor(
    private readonly session: NativeSession,
    private readonly input: string,
    private readonly output: string,
    readonly width: number,
  ) {}

  /** `threads`: ONNX Runtime's intra-op threads (default: one per core; a scoring thread that shares the cores with others takes 1). */
  static open(file: string, uri: string, width: number, threads?: number): ModelRunner {
    const session = (() => {
      try {
        native.initOrt();
        const bytes = fs.readFileSync(file);
        const created = new native.binding.InferenceSession();
        created.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, threads ? { ...SESSION_OPTIONS, intraOpNumThreads: threads } : SESSION_OPTIONS);
        return created;
      } catch (err) {
        throw modelError(`${uri}: ONNX Runtime cannot load the model (${(err as Error).message.split('\n')[0]})`);
      }
    })();
    const outputs = session.outputMetadata.map((m) => m.name);
    const output = ['probability', 'probabilities'].find((n) => outputs.includes(n)) ?? outputs.find((n) => n !== 'label' && n !== 'output_label');
    if (!output) {
      session.dispose();
      throw modelError(`${uri}: no probability output among ${outputs.join(', ')}`);
    }
    return new ModelRunner(session, session.inputMetadata[0].name, output, width);
  }

  /** Probability of the positive class for each of `rows` rows of `x` (row-major, `width` columns). */
  score(x: Float32Array, rows: number): Float32Array {
    const data = this.outputs(x, rows);
    if (data.length === rows) return data;
    if (data.length === 2 * rows) {
      const positive = new Float32Array(rows);
      for (let i = 0; i < rows; i++) positive[i] = data[2 * i + 1];
      return positive;
    }
    throw modelError(`model output ${this.output} has ${data.length} values for ${rows} rows`);
  }

  /** Every value of the model's output for `rows` rows of `x`, row-major (a multiclass model's: a probability per class and row). */
  outputs(x: Float32Array, rows: number): Float32Array {
    const feeds = { [this.input]: new ort.Tensor('float32', x.subarray(0, rows * this.width), [rows, this.width]) };
    return this.session.run(feeds, { [this.output]: null }, {})[this.output].data as Float32Array;
  }

  close(): void {
    this.session.dispose();
  }
}
