import { CancelledFailure, Context } from '@temporalio/activity';
import { ArtifactStore } from './storage/artifact-store';
import { evaluateModel, type EvaluateInput } from './evaluate/evaluate';
import { extractWindow, type ExtractInput } from './extract/extract';
import { checkTrainingData, type CheckDataInput } from './checks/check-data';
import { checkExtractColumnsAtLoad } from './checks/run-checks';
import { importExternalModel, type ImportInput } from './train/external-model';
import { buildFeatures, loadFeatureSet, type FeaturesInput } from './features/features';
import { planInference, type PlanInput } from './inference/plan';
import { writeRunReport, type RunReportInput } from './report/run-report';
import { writeScoresReport, type ScoresReportInput } from './report/scores-report';
import { scoreShard, type ScoreShardInput, type ShardHeartbeat } from './inference/score-shard';
import { readChampion, readRegistry, registerModelVersion, resolveModel, setModelAlias } from './registry/registry';
import type { NewModelVersion } from '../contracts/registry';
import { publishScores, type PublishInput } from './sinks/publish';
import { publishedDays, type PublishedFilter } from './sinks/published-days';
import { newestDay } from './sources/sources';
import { loadSpecFile } from './spec/loader';
import { checkSpecSql } from './spec/sql-check';
import { insideDataRoots } from './storage/data-roots';
import { trainModel } from './train/train';
import type { TrainInput } from './train/trainer';
import { exportLogisticFit, logisticChunkSums, planLogisticFit, type ChunkSumsInput, type ExportFitInput, type PlanFitInput } from './train/logistic/parallel-fit';
import { exportLinearFit, planLinearFit } from './train/linear/parallel-fit';
import type { TrainHeartbeat } from '../contracts/artifacts';
import type { LoadedSpec } from '../contracts/spec';

/**
 * The activities a Sluice worker runs, bound to one artifact store and the task queue model registries
 * run on. Workflows refer to them by the names of this object's keys.
 */
export function createActivities(store: ArtifactStore, registryTaskQueue: string) {
  return {
    async loadSpec(input: { spec: string }): Promise<LoadedSpec> {
      // Checked before the file is read: a file outside the data roots is refused without a word of its content.
      insideDataRoots(input.spec, 'the pipeline spec file', input.spec);
      const loaded = loadSpecFile(input.spec);
      await checkSpecSql(loaded);
      await checkExtractColumnsAtLoad(loaded);
      return loaded;
    },
    async extract(input: ExtractInput) {
      return whileAlive(() => extractWindow(store, input));
    },
    async buildFeatures(input: FeaturesInput) {
      return whileAlive(() => buildFeatures(store, input));
    },
    async checkData(input: CheckDataInput) {
      return whileAlive(() => checkTrainingData(store, input));
    },
    async train(input: TrainInput) {
      const context = Context.current();
      const resume = context.info.heartbeatDetails as TrainHeartbeat | undefined;
      if (resume) context.log.info('resuming training from checkpoint', { iteration: resume.iteration });
      // Liveness beats repeat the checkpoint this attempt started from, so a retry never loses it; a cancelled run stops at the next iteration.
      const beat = (details: unknown) => {
        context.heartbeat(details);
        throwIfCancelled(context);
      };
      return trainModel(store, input, { resume, onIteration: beat, alive: () => beat(resume) });
    },
    async planLogisticFit(input: PlanFitInput) {
      return whileAlive(() => planLogisticFit(store, input));
    },
    // Any chunk's sums: the logistic fit's (at θ, at the line search's candidates) and the linear fit's normal equations.
    async logisticChunkSums(input: ChunkSumsInput) {
      return whileAlive(() => logisticChunkSums(store, input));
    },
    async exportLogisticFit(input: ExportFitInput) {
      return whileAlive(() => exportLogisticFit(store, input));
    },
    async planLinearFit(input: Parameters<typeof planLinearFit>[1]) {
      return whileAlive(() => planLinearFit(store, input));
    },
    async exportLinearFit(input: Parameters<typeof exportLinearFit>[1]) {
      return whileAlive(() => exportLinearFit(store, input));
    },
    async importModel(input: ImportInput) {
      return whileAlive(() => importExternalModel(store, input));
    },
    async evaluate(input: EvaluateInput) {
      return whileAlive(() => evaluateModel(store, input));
    },
    async loadFeatureSet(input: { fingerprint: string; owner: string }) {
      return loadFeatureSet(store, input.fingerprint, input.owner);
    },
    async planInference(input: PlanInput) {
      return whileAlive(() => planInference(store, input));
    },
    async scoreShard(input: ScoreShardInput) {
      const context = Context.current();
      // Every beat carries the progress (slices staged, rows scored); a cancelled run stops within a few chunks.
      const beat = (details: ShardHeartbeat) => context.heartbeat(details);
      return scoreShard(store, input, { onSlice: beat, progress: beat, checkCancelled: () => throwIfCancelled(context) });
    },
    async writeRunReport(input: RunReportInput) {
      return whileAlive(() => writeRunReport(store, input));
    },
    async writeScoresReport(input: ScoresReportInput) {
      return whileAlive(() => writeScoresReport(store, input));
    },
    async publishScores(input: PublishInput) {
      return whileAlive(() => publishScores(store, input));
    },
    async removeStaging(input: { staging: string }): Promise<void> {
      await store.remove(input.staging);
    },
    async newestDay(input: { loaded: LoadedSpec }): Promise<string> {
      return newestDay(input.loaded);
    },
    async publishedDays(input: { loaded: LoadedSpec; filter: PublishedFilter }): Promise<string[]> {
      return publishedDays(input.loaded, input.filter);
    },
    async registerModelVersion(input: { model: string; entry: NewModelVersion }) {
      return registerModelVersion(registryTaskQueue, input);
    },
    setModelAlias,
    readRegistry,
    readChampion,
    resolveModel,
  };
}

export type SluiceActivities = ReturnType<typeof createActivities>;

/**
 * How often an activity without progress of its own heartbeats that it is alive: every 5 s, or three times per
 * heartbeat timeout when that is shorter (every 5 s against a 5 s timeout let an evaluation of more than 5 s time
 * out and start again).
 */
const LIVENESS_MS = 5_000;

/**
 * Runs a data step (one or a few DuckDB statements) while heartbeating every few seconds, so a dead
 * worker is noticed within the heartbeat timeout, not the step's 30-minute limit. A cancelled activity
 * reports its cancellation at once; the statement it was running ends with its connection. Outside an
 * activity (called directly, e.g. by tests and benchmarks) it just runs `work`.
 */
async function whileAlive<T>(work: () => Promise<T>): Promise<T> {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return work();
  }
  const timer = setInterval(() => context.heartbeat(), Math.min(LIVENESS_MS, (context.info.heartbeatTimeoutMs ?? Infinity) / 3));
  try {
    return await Promise.race([work(), context.cancelled]);
  } finally {
    clearInterval(timer);
  }
}

/** Throws the activity's cancellation, once the server has asked for it (heartbeats bring the request). */
function throwIfCancelled(context: Context): void {
  if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason ?? new CancelledFailure('activity cancelled');
}
