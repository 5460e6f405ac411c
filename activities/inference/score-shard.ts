import fs from 'node:fs';
import path from 'node:path';
import duckdb from '@duckdb/node-bindings';
import { DuckDBDataChunk, FLOAT, type DuckDBConnection } from '@duckdb/node-api';
import type { ArtifactRef, ArtifactStore } from '../artifacts';
import { metered } from '../cost';
import { runSpecSql, scalar, sqlIdent, sqlString, withDuckDB } from '../duckdb';
import { dataError } from '../errors';
import type { LoadedSpec } from '../spec-loader';
import { ModelRunner } from './model-runner';
import { prepareFeatureContext, scoringSelect, selectSource } from './inference-source';
import { extractQuery, windowPredicate } from '../sources';
import { groupDays, type Shard } from './plan';

/** The model a shard scores with. */
export interface ScoringModel {
  uri: string;
  version: number;
  featureNames: string[];
}

export interface ScoreShardInput {
  loaded: LoadedSpec;
  stats: Record<string, ArtifactRef>;
  model: ScoringModel;
  shard: Shard;
  /** The run's staging folder (an artifact URI); each shard writes below it. */
  staging: string;
  runId: string;
}

/** Progress and resume point of a shard: slices before `slicesDone` are staged and are not redone. */
export interface ShardHeartbeat {
  shard: number;
  slicesDone: number;
  slices: number;
  rowsDone: number;
  rowsTotal: number;
}

export interface ShardHooks {
  resume?: ShardHeartbeat;
  onSlice?: (beat: ShardHeartbeat) => void;
  /** Called at the start of each slice, to show the attempt is alive while it computes. */
  alive?: () => void;
}

/** Rows handed to ONNX Runtime per call. */
const SCORE_BATCH = 65_536;

/**
 * Scores one shard: slice by slice (day-aligned, about `slice_rows` rows each), DuckDB computes the
 * features as one FLOAT[F] array column, the rows go to ONNX Runtime straight from DuckDB's memory
 * (one copy into the batch buffer, no per-value conversion), and the scores are appended back and
 * written with the keys as Parquet partitioned by day into the run's staging folder. Memory is bounded
 * by the slice size. After each slice the activity heartbeats; a retried attempt skips staged slices.
 */
export async function scoreShard(store: ArtifactStore, input: ScoreShardInput, hooks: ShardHooks = {}) {
  const { loaded, model, shard } = input;
  const inference = loaded.spec.inference;
  if (!inference) throw dataError('inference: missing from the spec');
  const slices = groupDays(shard.days, inference.slice_rows);
  const shardDir = path.join(store.pathOf(input.staging), `shard-${shard.index}`);
  const resume = hooks.resume?.shard === shard.index ? hooks.resume : undefined;
  return metered(async (meter) => {
    const runner = await ModelRunner.open(store.pathOf(model.uri), model.uri, model.featureNames.length);
    try {
      return await withDuckDB(async (connection) => {
        await prepareFeatureContext(connection, store, loaded, input.stats);
        // One pass over the source for the whole shard; its slices read this table.
        const shardWindow = { from: shard.days[0].day, to: shard.days[shard.days.length - 1].day };
        await runSpecSql('extract.query', () =>
          connection.run(`CREATE TEMP TABLE shard_rows AS SELECT * FROM (${extractQuery(loaded)}) WHERE ${windowPredicate(loaded.spec.extract.time_column, shardWindow)}`),
        );
        let rowsDone = resume?.rowsDone ?? 0;
        const batch = new Float32Array(SCORE_BATCH * model.featureNames.length);
        for (let k = resume?.slicesDone ?? 0; k < slices.length; k++) {
          const slice = slices[k];
          const sliceDir = path.join(shardDir, `slice-${k}`);
          fs.rmSync(sliceDir, { recursive: true, force: true }); // a slice a killed attempt left half-written
          fs.mkdirSync(shardDir, { recursive: true });
          hooks.alive?.();
          const window = { from: slice.days[0].day, to: slice.days[slice.days.length - 1].day };
          await selectSource(connection, loaded, window, 'shard_rows');
          await runSpecSql('features.sql', () => connection.run(`CREATE OR REPLACE TEMP TABLE features AS ${scoringSelect(loaded, model.featureNames)}`));
          await checkFeatureValues(connection, model.featureNames.length, window.from, window.to);
          const scores = await scoreFeatures(connection, runner, batch, model.featureNames.length);
          await stageScores(connection, scores, sliceDir, loaded, model.version, input.runId);
          rowsDone += scores.length;
          hooks.onSlice?.({ shard: shard.index, slicesDone: k + 1, slices: slices.length, rowsDone, rowsTotal: shard.rows });
        }
        meter.rowsIn = shard.rows;
        meter.rowsOut = rowsDone;
        meter.bytesOut = directorySize(shardDir);
        return { shard: shard.index, rows: rowsDone, slices: slices.length, resumedFromSlice: resume?.slicesDone ?? 0 };
      });
    } finally {
      await runner.close();
    }
  });
}

/** Refuses NULL, NaN or infinite features, counting the rows: a NULL is a missing element, NaN and ±inf spoil the sum. */
async function checkFeatureValues(connection: DuckDBConnection, width: number, from: string, to: string): Promise<void> {
  const bad = Number(await scalar(connection, `SELECT count(*) FROM features WHERE list_count(features) < ${width} OR NOT isfinite(coalesce(list_sum(features), 'nan'::DOUBLE))`));
  if (bad > 0) {
    throw dataError(`features.sql: ${bad} rows in ${from} .. ${to} have NULL, NaN or infinite features; fill them in the SQL (coalesce) or filter them; nothing was published`);
  }
}

/** Reads the feature arrays chunk by chunk from DuckDB's memory into the batch buffer and scores each batch. */
async function scoreFeatures(connection: DuckDBConnection, runner: ModelRunner, batch: Float32Array, width: number): Promise<Float32Array> {
  const result = (await connection.run('SELECT features FROM features')) as unknown as { result: duckdb.Result };
  const rows = Number(await scalar(connection, 'SELECT count(*) FROM features'));
  const scores = new Float32Array(rows);
  const chunks = duckdb.result_chunk_count(result.result);
  const batchRows = batch.length / width;
  let filled = 0;
  let scored = 0;
  const flush = async () => {
    if (filled === 0) return;
    scores.set(await runner.score(batch, filled), scored);
    scored += filled;
    filled = 0;
  };
  for (let c = 0; c < chunks; c++) {
    const chunk = duckdb.result_get_chunk(result.result, c);
    const n = duckdb.data_chunk_get_size(chunk);
    if (filled + n > batchRows) await flush();
    const values = duckdb.vector_get_data(duckdb.array_vector_get_child(duckdb.data_chunk_get_vector(chunk, 0)), n * width * 4);
    batch.set(new Float32Array(values.buffer, values.byteOffset, n * width), filled * width);
    filled += n;
  }
  await flush();
  if (scored !== rows) throw new Error(`scored ${scored} rows of ${rows}`);
  return scores;
}

/** Appends the scores as a column and writes day, keys, score and lineage, partitioned by day. */
async function stageScores(connection: DuckDBConnection, scores: Float32Array, dir: string, loaded: LoadedSpec, version: number, runId: string): Promise<void> {
  await connection.run('CREATE OR REPLACE TEMP TABLE scores (score FLOAT)');
  const appender = await connection.createAppender('scores');
  for (let start = 0; start < scores.length; start += 2048) {
    const n = Math.min(2048, scores.length - start);
    const chunk = DuckDBDataChunk.create([FLOAT], n);
    duckdb.copy_data_to_vector(duckdb.data_chunk_get_vector(chunk.chunk, 0), 0, scores.buffer as ArrayBuffer, scores.byteOffset + start * 4, n * 4);
    appender.appendDataChunk(chunk);
  }
  appender.closeSync();
  const keys = loaded.spec.features.keys.map((k) => `f.${sqlIdent(k)}`);
  const columns = ['f.day', ...keys, 's.score', `${version}::INTEGER AS model_version`, `${sqlString(runId)} AS run_id`].join(', ');
  await connection.run(
    `COPY (SELECT ${columns} FROM features f POSITIONAL JOIN scores s) TO ${sqlString(dir)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day))`,
  );
}

function directorySize(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}
