import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { withDuckDB, sqlString } from '../activities/sql/duckdb';
import { formatInferenceResult } from '../scripts/cli/format';
import { batchInference } from '../workflows/batch-inference';
import { trainPipeline } from '../workflows/train-pipeline';
import { pythonHarness, type PythonHarness } from './support/python-harness';
import { smallFlightsSpec, withoutAirports, type SpecInput } from './support/specs';
import { TEST_ARTIFACTS, type TestHarness } from './support/temporal';

/**
 * Categorical features end to end with LightGBM's native categorical splits: the train step learns from the
 * coded origin and destination, batchInference codes a new day with the dictionary training learned, its scores
 * are LightGBM's own on the same rows, and the ONNX model is self-contained: given the raw columns coded with
 * the dictionary in its metadata, ONNX Runtime scores the same.
 */
const ROOT = path.resolve(__dirname, '..');
const PYTHON = path.join(ROOT, '.tools', 'venv', 'bin', 'python');
let h: TestHarness;
let queue: string;
let work: string;

/** The three-week flights spec with LightGBM (or `trainer`), with its categorical features (the airports) when `categorical`, else without them. */
function spec(name: string, categorical: boolean, trainer?: SpecInput['trainer']): string {
  return smallFlightsSpec(name, (s: SpecInput) => {
    if (!categorical) withoutAirports(s);
    s.trainer = trainer ?? { type: 'lightgbm', trees: 120, leaves: 31, learning_rate: 0.1, early_stopping_rounds: 20, seed: 5, threads: 2 };
    s.execution = { python_task_queue: queue };
    s.inference = { shard_rows: 100_000, slice_rows: 100_000, max_parallel_shards: 1, sink: { type: 'parquet', path: path.join(work, name) } };
  });
}

/** Python: the sink's scores for a day against LightGBM's own (coded features of the feature set) and ONNX Runtime on the raw columns coded with the model's dictionary. */
const COMPARE = `
import json, sys, duckdb, numpy as np, onnx, onnxruntime as ort, lightgbm as lgb
root, model, sink, first, last = sys.argv[1:6]
proto = onnx.load(f"{model}/model.onnx")
meta = {p.key: p.value for p in proto.metadata_props}
names, categories = json.loads(meta["sluice.feature_names"]), json.loads(meta["sluice.categories"])
rows = duckdb.sql(f"""SELECT DISTINCT s.score, s.origin AS raw_origin, s.destination AS raw_destination, {", ".join(f'f."{n}"' for n in names)}
  FROM read_parquet('{sink}') s JOIN read_parquet('{root}/features/{meta["sluice.features_fingerprint"]}/validate.parquet') f
  ON s.date = f.date AND s.origin = f.origin AND s.destination = f.destination WHERE CAST(f.date AS DATE) BETWEEN DATE '{first}' AND DATE '{last}'""").fetchnumpy()
ours = np.asarray(rows["score"], dtype=np.float64)
coded = np.column_stack([np.asarray(rows[n], dtype=np.float32) for n in names])
booster = lgb.Booster(model_file=f"{model}/lightgbm.txt")
def code(column, values):
    d = categories[column]
    index = {v: i for i, v in enumerate(d["codes"])}
    return np.array([index.get(v, len(d["codes"]) if v in set(d["rare"]) else np.nan) for v in values], dtype=np.float32)
raw = coded.copy()
raw[:, names.index("origin_airport")] = code("origin_airport", rows["raw_origin"])
raw[:, names.index("destination_airport")] = code("destination_airport", rows["raw_destination"])
session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
onnx_raw = session.run(["probability"], {"input": raw})[0]
print(json.dumps({"rows": len(ours), "vsLightgbm": float(np.max(np.abs(ours - booster.predict(coded)))), "vsRawOnnx": float(np.max(np.abs(ours - onnx_raw))), "codedAsRaw": bool(np.array_equal(np.nan_to_num(raw, nan=-1), np.nan_to_num(coded, nan=-1)))}))
`;
import { binaryMetrics } from '../contracts/metric-values';

/** From the raw flights: the rows (and days) of `from`..`to` whose origin, and destination, the training days never had. */
async function unseenIn(trainFrom: string, trainTo: string, from: string, to: string) {
  const flights = sqlString(path.join(ROOT, 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet'));
  return withDuckDB(async (c) => {
    const counts = (column: string) =>
      `SELECT count(*)::INTEGER AS rows, count(DISTINCT CAST(date AS DATE))::INTEGER AS days FROM read_parquet(${flights})
       WHERE CAST(date AS DATE) BETWEEN DATE '${from}' AND DATE '${to}'
         AND ${column} NOT IN (SELECT ${column} FROM read_parquet(${flights}) WHERE CAST(date AS DATE) BETWEEN DATE '${trainFrom}' AND DATE '${trainTo}')`;
    const read = async (column: string) => {
      const [rows, days] = (await c.runAndReadAll(counts(column))).getRowsJS()[0].map(Number);
      return { rows, days };
    };
    return { origin: await read('origin'), destination: await read('destination') };
  });
}

let setup: PythonHarness;
beforeAll(async () => {
  setup = await pythonHarness('categorical');
  ({ h, queue, work } = setup);
});
afterAll(() => setup?.close());

describe('categorical features with LightGBM', () => {
  it('trains on coded origin and destination, scores a new day with the same dictionary, like LightGBM and like the raw columns coded from the model', async () => {
    const validation = { from: '2001-01-22', to: '2001-01-24' }; // every validation row: its coded rows are in the feature set
    const file = spec('categorical', true);
    const { trained, numeric, scored, june } = await h.withWorker(async () => {
      const numeric = await h.client.workflow.execute(trainPipeline, { args: [{ spec: spec('categorical-numeric', false) }], taskQueue: h.config.taskQueue, workflowId: `categorical-numeric-${process.pid}` });
      const trained = await h.client.workflow.execute(trainPipeline, { args: [{ spec: file }], taskQueue: h.config.taskQueue, workflowId: `categorical-train-${process.pid}` });
      const scored = await h.client.workflow.execute(batchInference, { args: [{ spec: file, ...validation }], taskQueue: h.config.taskQueue, workflowId: `categorical-infer-${process.pid}` });
      const june = await h.client.workflow.execute(batchInference, { args: [{ spec: file, from: '2001-06-29', to: '2001-06-30' }], taskQueue: h.config.taskQueue, workflowId: `categorical-infer-june-${process.pid}` });
      return { trained, numeric, scored, june };
    });
    // Five months on, some airports were never seen in the three training weeks: those rows are scored (as
    // missing), counted per feature and day, and the counts are the ones the raw data gives.
    expect(june.rows).toBeGreaterThan(0);
    const expected = await unseenIn('2001-01-01', '2001-01-21', '2001-06-29', '2001-06-30');
    expect(expected.origin.rows).toBeGreaterThan(0);
    expect(june.unseenCategories).toEqual({ origin_airport: expected.origin, ...(expected.destination.rows > 0 ? { destination_airport: expected.destination } : {}) });
    expect(formatInferenceResult(june)).toContain(`Categories training never saw (scored as missing): origin_airport ${expected.origin.rows.toLocaleString('en-US')} rows on ${expected.origin.days} days`);
    expect(scored.unseenCategories).toBeUndefined(); // January days: every airport known
    expect(trained.promoted).toBe(true);
    expect(scored.modelVersion).toBe(trained.modelVersion);
    // The same model without the two categories, for the record (the measurement: +0.02 AUC on five months).
    console.log(`validation AUC with origin and destination as categories ${binaryMetrics(trained.metrics).auc.toFixed(4)}, without ${binaryMetrics(numeric.metrics).auc.toFixed(4)}`);
    const modelFolder = path.dirname(path.join(TEST_ARTIFACTS, trained.modelUri.replace(/^artifact:/, '')));
    const compared = spawnSync(PYTHON, ['-c', COMPARE, TEST_ARTIFACTS, modelFolder, path.join(work, 'categorical', '*', '*.parquet'), validation.from, validation.to], { encoding: 'utf8' });
    expect(compared.stderr).toBe('');
    const result = JSON.parse(compared.stdout) as { rows: number; vsLightgbm: number; vsRawOnnx: number; codedAsRaw: boolean };
    expect(result.rows).toBeGreaterThan(scored.rows * 0.9);
    expect(result.codedAsRaw).toBe(true); // the dictionary in the model codes the raw columns as the feature set did
    expect(result.vsLightgbm).toBeLessThanOrEqual(1e-5);
    expect(result.vsRawOnnx).toBeLessThanOrEqual(1e-6);
  });

  it('the logistic trainer one-hots the top categories, in memory and data-parallel alike, and states the dictionary in its model', async () => {
    const logistic = { type: 'logistic_regression' as const, one_hot_top: 10 };
    const { inMemory, parallel, numeric } = await h.withWorker(async () => {
      const run = (file: string, id: string) => h.client.workflow.execute(trainPipeline, { args: [{ spec: file }], taskQueue: h.config.taskQueue, workflowId: `${id}-${process.pid}` });
      return {
        numeric: await run(spec('categorical-logistic-numeric', false, logistic), 'categorical-logistic-numeric'),
        inMemory: await run(spec('categorical-logistic', true, logistic), 'categorical-logistic'),
        parallel: await run(spec('categorical-logistic-parallel', true, { ...logistic, chunk_rows: 20_000 }), 'categorical-logistic-parallel'),
      };
    });
    console.log(`logistic validation AUC with the top 10 origins and destinations one-hot ${binaryMetrics(inMemory.metrics).auc.toFixed(4)}, without ${binaryMetrics(numeric.metrics).auc.toFixed(4)}`);
    expect(binaryMetrics(inMemory.metrics).auc).toBeGreaterThan(0.6);
    // The data-parallel fit sums the same design over chunks: the same model, to float32 rounding.
    // (it streamed the rows every iteration, where the in-memory fit read them once)
    const trainRows = (r: typeof parallel) => r.ledger!.entries.find((e) => e.step === 'train')!.cost.rowsIn;
    expect(trainRows(parallel)).toBeGreaterThan(3 * trainRows(inMemory));
    expect(Math.abs(binaryMetrics(parallel.metrics).auc - binaryMetrics(inMemory.metrics).auc)).toBeLessThan(1e-4);
    expect(Math.abs(binaryMetrics(parallel.metrics).logLoss - binaryMetrics(inMemory.metrics).logLoss)).toBeLessThan(1e-4);
    // The model reads the coded columns (its inputs are the 18 features) and states the dictionary they come from.
    const model = path.join(TEST_ARTIFACTS, inMemory.modelUri.replace(/^artifact:/, ''));
    const meta = spawnSync(PYTHON, ['-c', 'import json, sys, onnx; m = onnx.load(sys.argv[1]); p = {x.key: x.value for x in m.metadata_props}; print(json.dumps({"names": json.loads(p["sluice.feature_names"]), "categories": json.loads(p["sluice.categories"]), "inputs": [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]}))', model], { encoding: 'utf8' });
    expect(meta.stderr).toBe('');
    const found = JSON.parse(meta.stdout) as { names: string[]; categories: Record<string, { codes: string[]; rare: string[] }>; inputs: number[] };
    expect(found.names).toContain('origin_airport');
    expect(found.inputs[1]).toBe(found.names.length);
    expect(found.categories.origin_airport.codes.length).toBeGreaterThan(10);
    expect(found.categories.origin_airport.codes[0]).toMatch(/^[A-Z]{3}$/);
  });
});
