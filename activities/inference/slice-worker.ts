/**
 * A scoring thread: scores the slices its pool hands it, one at a time, each in a DuckDB of its own with one
 * thread, so its scoring callback runs on this thread's JavaScript, beside the other threads', instead of every
 * shard's chunks waiting for the one main thread. The scorer (an ONNX Runtime session or a compiled library) is
 * kept for the next slice of the same model.
 */
import { parentPort } from 'node:worker_threads';
import { ApplicationFailure } from '@temporalio/common';
import { withDuckDB } from '../sql/duckdb';
import { prepareFeatureContext, selectSource } from './inference-source';
import type { RowScorer } from './row-scorer';
import { openChosen } from './scorer';
import { registerScoringFunction } from './scoring-function';
import type { SerializedError, SliceMessage, SliceTask } from './slice-task';
import { binsByDay, stageSlice, unseenByDay } from './stage-slice';
import { FeatureBinner } from '../checks/drift';

let cached: { key: string; scorer: RowScorer } | undefined;

function scorerFor(task: SliceTask): RowScorer {
  const key = JSON.stringify([task.model.file, task.scorer]);
  if (cached?.key !== key) {
    cached?.scorer.close();
    cached = undefined;
    // One ONNX Runtime thread: the shard's other scoring threads have the other cores.
    cached = { key, scorer: openChosen(task.scorer, task.model.file, task.model.uri, task.model.featureNames.length, 1) };
  }
  return cached.scorer;
}

async function score(task: SliceTask, post: (message: SliceMessage) => void): Promise<SliceMessage> {
  const stop = new Int32Array(task.stop);
  const scorer = scorerFor(task);
  return withDuckDB(
    async (connection) => {
      await prepareFeatureContext(connection, task.loaded, task.statsFiles);
      await selectSource(connection, task.loaded, task.window);
      const categorical = task.model.featureNames.map((name) => (task.loaded.spec.features.categorical ?? []).includes(name));
      let reported = 0;
      const onRows = (rows: number) => {
        // The shard asked this slice to stop; it already holds the error that made it ask.
        if (Atomics.load(stop, 0) !== 0) throw new Error('stopped by its shard');
        if (rows - reported < task.progressRows) return;
        post({ kind: 'progress', rows: rows - reported });
        reported = rows;
      };
      const binner = task.profile?.some(Boolean) ? new FeatureBinner(task.profile) : undefined;
      const tally = registerScoringFunction(connection, 'sluice_score', scorer, { onRows, categorical, binner, binStride: task.driftStride, outputs: task.model.classes?.length ?? 1 });
      const rows = await stageSlice(connection, tally, task.dir, task.loaded, task.model, task.runId, task.window, categorical.some(Boolean) || binner !== undefined, task.snapshot);
      post({ kind: 'progress', rows: tally.rows - reported });
      const from = task.snapshot ?? task.window.from;
      return { kind: 'done', rows, unseen: unseenByDay(tally, task.model.featureNames, from), ...(binner ? { bins: binsByDay(tally, from) } : {}) };
    },
    { confineTo: task.confineTo, threads: 1 },
  );
}

function serialized(err: unknown): SerializedError {
  const e = err as Error;
  return {
    message: e?.message ?? String(err),
    name: e?.name ?? 'Error',
    ...(err instanceof ApplicationFailure ? { type: err.type, nonRetryable: err.nonRetryable } : {}),
  };
}

parentPort?.on('message', (task: SliceTask) => {
  const post = (message: SliceMessage) => parentPort?.postMessage(message);
  score(task, post).then(post, (err: unknown) => post({ kind: 'failed', error: serialized(err) }));
});
