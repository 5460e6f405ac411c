import { Context } from '@temporalio/activity';
import { ArtifactStore } from './artifacts';
import { evaluateModel, type EvaluateInput } from './evaluate';
import { extractWindow, type ExtractInput } from './extract';
import { buildFeatures, type FeaturesInput } from './features';
import { readRegistry, registerModelVersion, setModelAlias } from './registry';
import { loadSpecFile, type LoadedSpec } from './spec-loader';
import { trainModel, type TrainHeartbeat, type TrainInput } from './train';

/**
 * The activities a Sluice worker runs, bound to one artifact store. Workflows refer to them by the
 * names of this object's keys.
 */
export function createActivities(store: ArtifactStore) {
  return {
    async loadSpec(input: { spec: string }): Promise<LoadedSpec> {
      return loadSpecFile(input.spec);
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
      return trainModel(store, input, { resume, onIteration: (beat) => context.heartbeat(beat) });
    },
    async evaluate(input: EvaluateInput) {
      return evaluateModel(store, input);
    },
    registerModelVersion,
    setModelAlias,
    readRegistry,
  };
}

export type SluiceActivities = ReturnType<typeof createActivities>;
