import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ArtifactStore } from '../storage/artifact-store';
import { metered } from '../cost/meter';
import { withDuckDB } from '../sql/duckdb';
import { dataError } from '../../contracts/errors';
import type { LoadedSpec } from '../../contracts/spec';
import { chooseScorer } from './scorer';
import { slicePool } from './slice-pool';
import type { SliceTask } from './slice-task';
import type { SliceMarker } from './stage-slice';
import { dayScores, type DayScores } from './score-stats';
import { fetchStats, prepareFeatureContext, selectSource } from './inference-source';
import { checkShardData } from '../checks/check-data';
import { checkSql } from '../checks/run-checks';
import { driftOutcomes, driftStride, featurePsi } from '../checks/drift';
import { dayRange } from '../checks/trailing';
import { worstState, type ChecksReport, type FeatureProfile } from '../../contracts/checks';
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
  /** Each feature's validation distribution, in the model's feature order (absent: no drift is measured). */
  profile?: Array<FeatureProfile | undefined>;
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
 * Scoring threads for a shard: the process's cores shared among the shards it scores at once, each thread a
 * DuckDB of one thread (measured: two of one thread each beat two of two threads on two cores). Fixed when the
 * shard starts.
 */
function shardThreads(): number {
  return Math.max(1, Math.floor(os.availableParallelism() / Math.max(1, activeShards)));
}

/**
 * Scores one shard, slice by slice (day-aligned, about `slice_rows` rows each), on scoring threads
 * (slice-pool.ts): each thread takes the next slice not yet staged, so a shard's slices are scored side by side,
 * one per core. Each slice is one DuckDB statement in its thread: the feature SQL builds one FLOAT[F] array per
 * row, the scoring function hands each chunk to the scorer (the tree model compiled to native code, or ONNX
 * Runtime) straight from DuckDB's memory and writes the scores into its output vector, and COPY writes day, keys,
 * score and lineage as Parquet partitioned by day into the run's staging folder — memory is bounded by DuckDB's
 * chunks, not by the number of rows. Each slice is written aside and renamed into place when complete; a
 * retried attempt (after a crash, whatever its last heartbeat said) skips every slice it finds staged, and
 * reports how many in `resumedFromSlice`. A failed slice stops the others within a chunk, and so does a
 * cancelled run.
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
    const { choice, warning } = await chooseScorer(modelFile, model.uri, model.featureNames.length, store.root).finally(() => clearInterval(alive));
    const statsFiles = await fetchStats(store, input.stats);
    const shardWindow = { from: shard.days[0].day, to: shard.days[shard.days.length - 1].day };
    // The spec's data checks on the shard's days, before any score of them is staged: a failing one stops the shard.
    const checked = Object.keys(loaded.spec.checks ?? {}).length > 0 ? await checkShard(store, loaded, statsFiles, shardWindow, input.runId, shard.snapshot) : undefined;
    const pending = slices.map((_, k) => k).filter((k) => !staged.has(k));
    // Each scoring thread takes the next slice not yet staged; the shard's share of the cores decides how many run at once.
    activeShards++;
    const threads = Math.min(pending.length, shardThreads());
    const stop = new SharedArrayBuffer(4);
    const scoring = new Map<number, number>(); // rows scored so far, by slice being written
    let failure: { error: unknown } | undefined;
    const fail = (error: unknown) => {
      failure ??= { error };
      Atomics.store(new Int32Array(stop), 0, 1); // the other slices stop within a chunk
    };
    // Called from the threads' progress messages too: whatever it throws (a cancelled run) stops the shard, never the process.
    const report = () => {
      try {
        hooks.progress?.({ ...beat, rowsInSlice: [...scoring.values()].reduce((a, b) => a + b, 0) });
        hooks.checkCancelled?.();
      } catch (err) {
        fail(err);
      }
    };
    try {
      await Promise.all(
        Array.from({ length: threads }, async () => {
          for (let k = pending.shift(); k !== undefined && !failure; k = pending.shift()) {
            const slice = slices[k];
            const sliceDir = path.join(shardDir, `slice-${k}`);
            const partial = `${sliceDir}.partial`;
            fs.rmSync(partial, { recursive: true, force: true }); // what a killed attempt left half-written
            fs.rmSync(sliceDir, { recursive: true, force: true });
            fs.mkdirSync(shardDir, { recursive: true });
            scoring.set(k, 0);
            report();
            if (failure) break;
            const window = { from: slice.days[0].day, to: slice.days[slice.days.length - 1].day };
            const task: SliceTask = {
              loaded,
              statsFiles,
              model: { uri: model.uri, file: modelFile, version: model.version, featureNames: model.featureNames, ...(model.classes ? { classes: model.classes } : {}) },
              scorer: choice,
              runId: input.runId,
              window,
              ...(shard.snapshot ? { snapshot: shard.snapshot } : {}),
              dir: partial,
              confineTo: [store.root],
              progressRows: PROGRESS_ROWS,
              stop,
              ...(model.profile ? { profile: model.profile, driftStride: driftStride(slice.days.map((d) => d.rows)) } : {}),
            };
            try {
              const { rows, unseen, bins } = await slicePool().run(task, (rows) => {
                scoring.set(k, (scoring.get(k) ?? 0) + rows);
                report();
              });
              // Complete: marked, then renamed into place in one step, so a slice on disk is a whole slice.
              fs.mkdirSync(partial, { recursive: true });
              const marker: SliceMarker = { rows, unseen, ...(bins ? { bins } : {}) };
              fs.writeFileSync(path.join(partial, SLICE_DONE), JSON.stringify(marker));
              fs.renameSync(partial, sliceDir);
              await store.push(`${shardUri}/slice-${k}`);
              beat = { ...beat, slicesDone: beat.slicesDone + 1, rowsDone: beat.rowsDone + rows };
              hooks.onSlice?.(beat);
            } catch (err) {
              fail(err);
            } finally {
              scoring.delete(k);
            }
          }
        }),
      );
    } finally {
      activeShards--;
    }
    if (failure) throw failure.error;
    meter.rowsIn = shard.rows;
    meter.rowsOut = beat.rowsDone;
    meter.bytesOut = directorySize(shardDir);
    // Per-day statistics of every slice of the shard (those an earlier attempt staged too), for the scores chart.
    const days = await withDuckDB(async (connection) => withMarkers(await dayScores(connection, shardDir, loaded.spec.task, model.deciles, model.classes), shardDir, model.profile), {
      confineTo: [store.root],
      threads: shardThreads(),
    });
    // Each day's feature drift against the spec's bounds: over an `error` bound, none of the shard's days is published.
    const drift = driftOutcomes(days, loaded.spec.drift, `scoring ${loaded.spec.name} ${dayRange(shardWindow)}`);
    const outcomes = [...(checked?.checks ?? []), ...drift];
    const checks: ChecksReport | undefined = outcomes.length > 0 ? { status: worstState(outcomes.map((o) => o.status)), checks: outcomes, ...(checked?.dayRows ? { dayRows: checked.dayRows } : {}) } : undefined;
    return {
      shard: shard.index,
      rows: beat.rowsDone,
      slices: slices.length,
      resumedFromSlice: found.length,
      days,
      engine: choice.engine,
      ...(warning ? { warning } : {}),
      ...(checks ? { checks } : {}),
    };
  });
}

/** The spec's checks on a shard's days, in a DuckDB of their own with the model's feature context. */
function checkShard(store: ArtifactStore, loaded: LoadedSpec, statsFiles: Record<string, string>, window: { from: string; to: string }, runId: string, snapshot?: string): Promise<ChecksReport> {
  return withDuckDB(
    async (connection) => {
      await prepareFeatureContext(connection, loaded, statsFiles, checkSql(loaded));
      await selectSource(connection, loaded, window);
      return checkShardData(connection, store, loaded, window, runId, snapshot);
    },
    { confineTo: [store.root], threads: shardThreads() },
  );
}

/**
 * `days` with what every staged slice's marker under `shardDir` recorded: the unseen-category counts, and (with the
 * model's profile) each feature's PSI from the slice's feature bins.
 */
function withMarkers(days: DayScores[], shardDir: string, profile: ScoringModel['profile']): DayScores[] {
  const unseen: Record<string, Record<string, number>> = {};
  const bins: Record<string, number[]> = {};
  for (const marker of stagedSlices(shardDir).values()) {
    Object.assign(unseen, marker.unseen);
    Object.assign(bins, marker.bins);
  }
  const drifting = profile?.some(Boolean) ? profile : undefined;
  return days.map((d) => ({
    ...d,
    ...(unseen[d.day] ? { unseen: unseen[d.day] } : {}),
    ...(drifting && bins[d.day] ? { featurePsi: featurePsi(drifting, bins[d.day]) } : {}),
  }));
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
