import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ArtifactStore } from '../storage/artifact-store';
import { metered } from '../cost/meter';
import { runSpecSql, sqlIdent, sqlString, withDuckDB } from '../sql/duckdb';
import { dataError } from '../../contracts/errors';
import type { DateWindow, LoadedSpec } from '../../contracts/spec';
import { openScorer } from './scorer';
import { classColumnsSql, dayScores, outputColumn, type DayScores } from './score-stats';
import { registerScoringFunction, type ScoringTally } from './scoring-function';
import { prepareFeatureContext, scoringSelect, selectSource } from './inference-source';
import { groupDays, type Shard } from './plan';
import type { ArtifactRef } from '../../contracts/artifacts';

/** The model a shard scores with. */
export interface ScoringModel {
  uri: string;
  version: number;
  featureNames: string[];
  /** A regression model's validation deciles: the bins of its per-day prediction distribution. */
  deciles?: number[];
  /** A multiclass model's classes, in its output's order: a probability column each. */
  classes?: string[];
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

/**
 * Progress and resume point of a shard: slices before `slicesDone` are staged and are not redone;
 * `rowsDone` counts their rows, `rowsInSlice` those scored so far in the slice being written.
 */
export interface ShardHeartbeat {
  shard: number;
  slicesDone: number;
  slices: number;
  rowsDone: number;
  rowsTotal: number;
  rowsInSlice?: number;
}

export interface ShardHooks {
  /** After each staged slice: the progress so far. */
  onSlice?: (beat: ShardHeartbeat) => void;
  /** While a slice is written, every few chunks: the same progress with the rows scored so far. */
  progress?: (beat: ShardHeartbeat) => void;
  /** Throws when the activity was cancelled: checked between slices and every few chunks. */
  checkCancelled?: () => void;
}

/** Written into a slice's folder when it is complete, just before the folder is renamed into place. */
const SLICE_DONE = '_SLICE.json';

/** Rows between two progress reports inside a slice. */
const PROGRESS_ROWS = 100_000;

/** Heartbeats while a tree model compiles. */
const COMPILE_BEAT_MS = 10_000;

/** Shards this worker process scores right now: they share its cores. */
let activeShards = 0;

/**
 * DuckDB threads for a shard: the process's cores shared among the shards it scores at once (measured: two
 * shards of one thread each beat two of two threads on two cores). Fixed when the shard starts, since its
 * connection's configuration is then locked.
 */
function shardThreads(): number {
  return Math.max(1, Math.floor(os.availableParallelism() / Math.max(1, activeShards)));
}

/**
 * Scores one shard, slice by slice (day-aligned, about `slice_rows` rows each). Each slice is one
 * DuckDB statement: the feature SQL builds one FLOAT[F] array per row, the scoring function hands each
 * chunk to the scorer (the tree model compiled to native code, or ONNX Runtime) straight from DuckDB's memory and writes the scores into its output vector, and
 * COPY writes day, keys, score and lineage as Parquet partitioned by day into the run's staging
 * folder — features, scores and the write overlap across DuckDB's threads, and memory is bounded by
 * DuckDB's chunks, not by the number of rows. Each slice is written aside and renamed into place when
 * complete; a retried attempt (after a crash, whatever its last heartbeat said) skips every slice it finds
 * staged, and reports how many in `resumedFromSlice`.
 */
export async function scoreShard(store: ArtifactStore, input: ScoreShardInput, hooks: ShardHooks = {}) {
  const { loaded, model, shard } = input;
  const inference = loaded.spec.inference;
  if (!inference) throw dataError('inference: missing from the spec');
  const slices = groupDays(shard.days, inference.slice_rows);
  const shardUri = `${input.staging}/shard-${shard.index}`;
  // What is durable is what counts: slices an earlier attempt staged (on any worker, with a remote store) are kept, whatever its heartbeats said.
  const shardDir = await store.fetchFolder(shardUri);
  const staged = stagedSlices(shardDir);
  const modelFile = await store.fetch(model.uri);
  const found = [...staged.keys()].filter((k) => k < slices.length);
  let beat: ShardHeartbeat = {
    shard: shard.index,
    slicesDone: found.length,
    slices: slices.length,
    rowsDone: found.reduce((sum, k) => sum + (staged.get(k)?.rows ?? 0), 0),
    rowsTotal: shard.rows,
  };
  return metered(async (meter) => {
    // A tree model's first shard on this worker compiles it (seconds to minutes): the activity stays alive meanwhile.
    const alive = setInterval(() => hooks.progress?.(beat), COMPILE_BEAT_MS);
    const opened = await openScorer(modelFile, model.uri, model.featureNames.length, store.root).finally(() => clearInterval(alive));
    const runner = opened.scorer;
    activeShards++;
    try {
      return await withDuckDB(async (connection) => {
        await prepareFeatureContext(connection, store, loaded, input.stats);
        let sliceStart = 0;
        let reported = 0;
        const categorical = model.featureNames.map((name) => (loaded.spec.features.categorical ?? []).includes(name));
        const onRows = (rows: number) => {
          if (rows - reported < PROGRESS_ROWS) return;
          reported = rows;
          hooks.progress?.({ ...beat, rowsInSlice: rows - sliceStart });
          hooks.checkCancelled?.();
        };
        const tally = registerScoringFunction(connection, 'sluice_score', runner, { onRows, categorical, outputs: model.classes?.length ?? 1 });
        for (let k = 0; k < slices.length; k++) {
          if (staged.has(k)) continue;
          hooks.checkCancelled?.();
          const slice = slices[k];
          const sliceDir = path.join(shardDir, `slice-${k}`);
          const partial = `${sliceDir}.partial`;
          fs.rmSync(partial, { recursive: true, force: true }); // what a killed attempt left half-written
          fs.rmSync(sliceDir, { recursive: true, force: true });
          fs.mkdirSync(shardDir, { recursive: true });
          hooks.progress?.({ ...beat, rowsInSlice: 0 });
          const window = { from: slice.days[0].day, to: slice.days[slice.days.length - 1].day };
          await selectSource(connection, loaded, window);
          sliceStart = reported = tally.rows;
          tally.unseen.clear();
          const written = await stageSlice(connection, tally, partial, loaded, model, input.runId, window, categorical.some(Boolean), shard.snapshot);
          // Complete: marked, then renamed into place in one step, so a slice on disk is a whole slice.
          fs.mkdirSync(partial, { recursive: true });
          const marker: SliceMarker = { rows: written, unseen: unseenByDay(tally, model.featureNames, shard.snapshot ?? window.from) };
          fs.writeFileSync(path.join(partial, SLICE_DONE), JSON.stringify(marker));
          fs.renameSync(partial, sliceDir);
          await store.push(`${shardUri}/slice-${k}`);
          beat = { ...beat, slicesDone: beat.slicesDone + 1, rowsDone: beat.rowsDone + written };
          hooks.onSlice?.(beat);
        }
        meter.rowsIn = shard.rows;
        meter.rowsOut = beat.rowsDone;
        meter.bytesOut = directorySize(shardDir);
        // Per-day statistics of every slice of the shard (those an earlier attempt staged too), for the scores chart.
        const days = withUnseen(await dayScores(connection, shardDir, loaded.spec.task, model.deciles, model.classes), shardDir);
        return {
          shard: shard.index,
          rows: beat.rowsDone,
          slices: slices.length,
          resumedFromSlice: found.length,
          days,
          engine: runner.engine,
          ...(opened.warning ? { warning: opened.warning } : {}),
        };
      }, { confineTo: [store.root], threads: shardThreads() });
    } finally {
      activeShards--;
      runner.close();
    }
  });
}

/** Computes, scores and writes one slice in one statement; refuses it (nothing kept) if a feature was NULL, NaN or infinite. */
async function stageSlice(
  connection: DuckDBConnection,
  tally: ScoringTally,
  dir: string,
  loaded: LoadedSpec,
  model: ScoringModel,
  runId: string,
  window: DateWindow,
  categorical: boolean,
  snapshot?: string,
): Promise<number> {
  const keys = loaded.spec.features.keys.map(sqlIdent);
  // With categorical features, the function also takes the row's day (as days since the window's first) to count unseen categories by day.
  const group = categorical ? `, CAST(day - DATE ${sqlString(snapshot ?? window.from)} AS INTEGER)` : '';
  const lineage = [`${model.version}::INTEGER AS model_version`, `${sqlString(runId)} AS run_id`];
  const rows = scoringSelect(loaded, model.featureNames, window, snapshot);
  // A multiclass model's probabilities are computed once per row, then spread over its class columns.
  const select = model.classes
    ? `SELECT ${['day', ...keys, classColumnsSql('sluice_probabilities', model.classes), ...lineage].join(', ')} FROM (SELECT day, ${[...keys, `sluice_score(features${group}) AS sluice_probabilities`].join(', ')} FROM (${rows}))`
    : `SELECT ${['day', ...keys, `sluice_score(features${group}) AS ${outputColumn(loaded.spec.task ?? 'binary')}`, ...lineage].join(', ')} FROM (${rows})`;
  const copy = `COPY (${select}) TO ${sqlString(dir)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day))`;
  let written: number;
  try {
    written = Number((await runSpecSql('features.sql', () => connection.run(copy))).rowsChanged);
  } catch (err) {
    throw tally.error ?? err;
  } finally {
    if (tally.badRows > 0 || tally.error !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  }
  if (tally.badRows > 0) {
    const columnsHit = model.featureNames.flatMap((name, k) => (tally.badByFeature[k] > 0 ? [`\`${name}\` (${tally.badByFeature[k]} rows)`] : []));
    throw dataError(
      `features.sql: ${tally.badRows} rows${snapshot ? '' : ` in ${window.from} .. ${window.to}`} have NULL, NaN or infinite features: ${columnsHit.join(', ')}; fill them in the SQL (coalesce) or filter them; nothing was published`,
    );
  }
  return written;
}

/** A staged slice's marker: its rows, and per day the rows each categorical feature had a category training never saw. */
interface SliceMarker {
  rows: number;
  unseen?: Record<string, Record<string, number>>;
}

/** The tally's unseen-category counts of a slice, by day (`YYYY-MM-DD`) and feature name. */
function unseenByDay(tally: ScoringTally, featureNames: string[], from: string): Record<string, Record<string, number>> {
  const found: Record<string, Record<string, number>> = {};
  const start = Date.parse(`${from}T00:00:00Z`);
  for (const [offset, counts] of tally.unseen) {
    const day = new Date(start + offset * 86_400_000).toISOString().slice(0, 10);
    const byFeature: Record<string, number> = {};
    counts.forEach((n, k) => {
      if (n > 0) byFeature[featureNames[k]] = n;
    });
    found[day] = byFeature;
  }
  return found;
}

/** `days` with the unseen-category counts every staged slice's marker under `shardDir` recorded. */
function withUnseen(days: DayScores[], shardDir: string): DayScores[] {
  const unseen: Record<string, Record<string, number>> = {};
  for (const marker of stagedSlices(shardDir).values()) Object.assign(unseen, marker.unseen);
  return days.map((d) => (unseen[d.day] ? { ...d, unseen: unseen[d.day] } : d));
}

/** The marker of each slice an earlier attempt staged completely (its folder renamed into place with its marker), by slice number. */
function stagedSlices(shardDir: string): Map<number, SliceMarker> {
  const staged = new Map<number, SliceMarker>();
  if (!fs.existsSync(shardDir)) return staged;
  for (const name of fs.readdirSync(shardDir)) {
    const match = /^slice-(\d+)$/.exec(name);
    const marker = path.join(shardDir, name, SLICE_DONE);
    if (match && fs.existsSync(marker)) staged.set(Number(match[1]), JSON.parse(fs.readFileSync(marker, 'utf8')) as SliceMarker);
  }
  return staged;
}

function directorySize(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}
