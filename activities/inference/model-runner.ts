import fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { modelError } from '../errors';

/**
 * Scores float32 feature rows with an ONNX model: Sluice's own (`probability` [N]) or one trained
 * elsewhere, e.g. scikit-learn via skl2onnx (`probabilities` [N,2], class 1 taken). Only tensor outputs
 * are fetched, so models with a ZipMap output work too as long as they also output a tensor.
 */
export class ModelRunner {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly input: string,
    private readonly output: string,
    readonly width: number,
  ) {}

  static async open(file: string, uri: string, width: number): Promise<ModelRunner> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(fs.readFileSync(file));
    } catch (err) {
      throw modelError(`${uri}: ONNX Runtime cannot load the model (${(err as Error).message.split('\n')[0]})`);
    }
    const output = ['probability', 'probabilities'].find((n) => session.outputNames.includes(n)) ?? session.outputNames.find((n) => n !== 'label' && n !== 'output_label');
    if (!output) throw modelError(`${uri}: no probability output among ${session.outputNames.join(', ')}`);
    return new ModelRunner(session, session.inputNames[0], output, width);
  }

  /** Probability of the positive class for each of `rows` rows of `x` (row-major, `width` columns). */
  async score(x: Float32Array, rows: number): Promise<Float32Array> {
    const feeds = { [this.input]: new ort.Tensor('float32', x.subarray(0, rows * this.width), [rows, this.width]) };
    const out = (await this.session.run(feeds, [this.output]))[this.output];
    const data = out.data as Float32Array;
    if (data.length === rows) return data;
    if (data.length === 2 * rows) {
      const positive = new Float32Array(rows);
      for (let i = 0; i < rows; i++) positive[i] = data[2 * i + 1];
      return positive;
    }
    throw modelError(`model output ${this.output} has ${data.length} values for ${rows} rows`);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
