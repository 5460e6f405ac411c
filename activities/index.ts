import fs from 'node:fs';
import { Context } from '@temporalio/activity';
import { ArtifactStore } from './artifacts';
import { evaluateModel, type EvaluateInput } from './evaluate';
import { extractWindow, type ExtractInput } from './extract';
import { buildFeatures, loadFeatureSet, type FeaturesInput } from './features';
import { planInference, type PlanInput } from './inference/plan';
import { writeRunReport, type RunReportInput } from './report/run-report';
import { scoreShard, type ScoreShardInput, type ShardHeartbeat } from './inference/score-shard';
import { readRegistry, registerModelVersion, resolveModel, setModelAlias } from './registry';
import { publishScores, type PublishInput } from './sinks/publish';
import { publishedDays, type PublishedFilter } from './sinks/published-days';
import { newestDay } from './sources';
import { loadSpecFile, type LoadedSpec } from './spec-loader';
import { checkSpecSql } from './spec-sql';
import { insideDataRoots } from './data-roots';
import { trainModel, type TrainHeartbeat, type TrainInput } from './train';

/**
 * The activities a Sluice worker runs, bound to one artifact store. Workflows refer to them by the
 * names of this object's keys.
 */
export function createActivities(store: ArtifactStore) {
  return {
    async loadSpec(input: { spec: string }): Promise<LoadedSpec> {
      // Checked before the file is read: a file outside the data roots is refused without a word of its content.
      insideDataRoots(input.spec, 'the pipeline spec file', input.spec);
      const loaded = loadSpecFile(input.spec);
      await checkSpecSql(loaded);
      return loaded;
    },
    async extract(input: ExtractInput) {
      return extractWindow(store, input);
    },
    async buildFeatures(input: FeaturesInput) {
      return buildFeatures(store, input);
    },
    async train(input: TrainInput) {
      const context = Context.current();
      const resume = context.info.heartbeatDetails as TrainHeartbeat | undefined;
      if (resume) context.log.info('resuming training from checkpoint', { iteration: resume.iteration });
      // Liveness beats repeat the checkpoint this attempt started from, so a retry never loses it.
      return trainModel(store, input, { resume, onIteration: (beat) => context.heartbeat(beat), alive: () => context.heartbeat(resume) });
    },
    async evaluate(input: EvaluateInput) {
      return evaluateModel(store, input);
    },
    async loadFeatureSet(input: { fingerprint: string; owner: string }) {
      return loadFeatureSet(store, input.fingerprint, input.owner);
    },
    async planInference(input: PlanInput) {
      return planInference(store, input);
    },
    async scoreShard(input: ScoreShardInput) {
      const context = Context.current();
      const resume = context.info.heartbeatDetails as ShardHeartbeat | undefined;
      if (resume) context.log.info('resuming shard from checkpoint', { ...resume });
      // Every beat carries the resume point (staged slices) with the rows scored so far.
      return scoreShard(store, input, { resume, onSlice: (beat) => context.heartbeat(beat), progress: (beat) => context.heartbeat(beat) });
    },
    async writeRunReport(input: RunReportInput) {
      return writeRunReport(store, input);
    },
    async publishScores(input: PublishInput) {
      return publishScores(store, input);
    },
    async removeStaging(input: { staging: string }): Promise<void> {
      fs.rmSync(store.pathOf(input.staging), { recursive: true, force: true });
    },
    async newestDay(input: { loaded: LoadedSpec }): Promise<string> {
      return newestDay(input.loaded);
    },
    async publishedDays(input: { loaded: LoadedSpec; filter: PublishedFilter }): Promise<string[]> {
      return publishedDays(input.loaded, input.filter);
    },
    registerModelVersion,
    setModelAlias,
    readRegistry,
    resolveModel,
  };
}

export type SluiceActivities = ReturnType<typeof createActivities>;
