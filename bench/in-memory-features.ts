import duckdb from '@duckdb/node-bindings';
import type { ArtifactStore } from '../activities/storage/artifact-store';
import { runSpecSql, withDuckDB } from '../activities/sql/duckdb';
import { fetchStats, prepareFeatureContext, scoringSelect, selectSource } from '../activities/inference/inference-source';
import { ModelRunner } from '../activities/inference/model-runner';
import type { RowScorer } from '../activities/inference/row-scorer';
import { windowFeaturesSql } from '../activities/features/point-in-time';
import { codedFeaturesSql } from '../activities/features/categories';
import type { FeatureSet } from '../contracts/artifacts';
import type { LoadedSpec } from '../contracts/spec';

/**
 * The baselines' inputs: every row's features in `window`, computed by DuckDB alone (best of two runs,
 * materialized into a table) and copied into one row-major float32 matrix, the in-memory tensor that
 * "ONNX Runtime alone" and "LightGBM alone" score.
 */
export async function inMemoryFeatures(store: ArtifactStore, loaded: LoadedSpec, features: FeatureSet, window: { from: string; to: string }): Promise<{ x: Float32Array; rows: number; duckdbSeconds: number }> {
  const names = features.featureColumns.map((c) => c.name);
  return withDuckDB(async (c) => {
    await prepareFeatureContext(c, loaded, await fetchStats(store, features.stats));
    await selectSource(c, loaded, window);
    // Categorical features coded by the training window's dictionary, as every scoring run codes them.
    const coded = codedFeaturesSql(windowFeaturesSql(loaded, window), loaded.spec.features.categorical ?? []);
    const select = `SELECT CAST(date AS DATE) AS day, origin, destination, ${names.map((n) => `CAST(${n} AS FLOAT) AS ${n}`).join(', ')} FROM (${coded})`;
    const times: number[] = [];
    for (let i = 0; i < 2; i++) {
      const t = performance.now();
      await runSpecSql('features.sql', () => c.run(`CREATE OR REPLACE TEMP TABLE plain AS ${select}`));
      times.push((performance.now() - t) / 1000);
    }
    await c.run(`CREATE TEMP TABLE arrays AS ${scoringSelect(loaded, names, window)}`);
    const result = (await c.run('SELECT features FROM arrays')) as unknown as { result: duckdb.Result };
    const rows = Number((await c.runAndReadAll('SELECT count(*) FROM arrays')).getRowsJS()[0][0]);
    const x = new Float32Array(rows * names.length);
    let at = 0;
    for (let k = 0; k < duckdb.result_chunk_count(result.result); k++) {
      const chunk = duckdb.result_get_chunk(result.result, k);
      const size = duckdb.data_chunk_get_size(chunk);
      const v = duckdb.vector_get_data(duckdb.array_vector_get_child(duckdb.data_chunk_get_vector(chunk, 0)), size * names.length * 4);
      x.set(new Float32Array(v.buffer, v.byteOffset, size * names.length), at);
      at += size * names.length;
    }
    return { x, rows, duckdbSeconds: Math.min(...times) };
  });
}

/** ONNX Runtime alone: seconds to score `rows` in-memory rows in 65,536-row batches (best of three), every output value fetched (a multiclass model's per class). */
export function ortAloneSeconds(modelFile: string, x: Float32Array, rows: number, width: number): number {
  const runner = ModelRunner.open(modelFile, modelFile, width);
  try {
    return scorerAlone(runner, x, rows).seconds;
  } finally {
    runner.close();
  }
}

/** `scorer` alone on the in-memory rows, 65,536 at a time: the best of `passes`, and every output value of the last. */
export function scorerAlone(scorer: RowScorer, x: Float32Array, rows: number, passes = 3): { seconds: number; scores: Float32Array } {
  const seconds: number[] = [];
  const parts: Float32Array[] = [];
  for (let r = 0; r < passes; r++) {
    parts.length = 0;
    const t = performance.now();
    for (let s = 0; s < rows; s += 65_536) parts.push(scorer.outputs(x.subarray(s * scorer.width), Math.min(65_536, rows - s)));
    seconds.push((performance.now() - t) / 1000);
  }
  const scores = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    scores.set(p, at);
    at += p.length;
  }
  return { seconds: Math.min(...seconds), scores };
}
