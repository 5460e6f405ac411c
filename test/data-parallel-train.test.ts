import fs from 'node:fs';
import { ArtifactStore } from '../activities/storage/artifact-store';
import { readMetadata } from '../activities/onnx/graph-builder';
import { loadSpecFile } from '../activities/spec/loader';
import { trainModel } from '../activities/train/train';
import { trainPipeline } from '../workflows/train-pipeline';
import { recordHistory } from './support/record-history';
import { smallFlightsSpec } from './support/specs';
import { harness, TEST_ARTIFACTS, type TestHarness } from './support/temporal';
import type { FeatureSet } from '../contracts/artifacts';

let h: TestHarness;
beforeAll(async () => {
  h = await harness('data-parallel');
});
afterAll(async () => {
  await h?.close();
});

describe('data-parallel logistic training', () => {
  it('fits over chunks across continue-as-new runs and agrees with the in-memory trainer iteration by iteration', async () => {
    // No early stop and no convergence: seven iterations, so the fit continues as new once (after five).
    const spec = smallFlightsSpec('data-parallel', (s) => {
      s.trainer = { type: 'logistic_regression', chunk_rows: 100_000, max_iterations: 7, tolerance: 1e-15, patience: 100 };
    });
    const workflowId = `data-parallel-${process.pid}`;
    const result = await h.withWorker(async () => {
      const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId });
      const done = await handle.result();
      recordHistory(handle, 'data-parallel-train');
      return done;
    });
    expect(result.steps.find((s) => s.name === 'train')?.detail).toBe('7 iterations, max-iterations');
    const train = result.ledger?.entries.find((e) => e.step === 'train');
    expect(train?.cost.rowsIn).toBeGreaterThan(7 * 2 * 300_000); // every iteration read the ~310,000 fit rows twice (and the holdout once)

    // The child workflow: two runs, the first continued as new after five iterations.
    const fits = [];
    for await (const run of h.client.workflow.list({ query: `WorkflowType = 'fitLogistic' AND WorkflowId STARTS_WITH '${workflowId}-fit-'` })) fits.push(run);
    expect(fits.map((f) => f.status.name).sort()).toEqual(['COMPLETED', 'CONTINUED_AS_NEW']);
    const first = fits.find((f) => f.status.name === 'CONTINUED_AS_NEW');
    if (first) recordHistory(h.client.workflow.getHandle(first.workflowId, first.runId), 'fit-logistic-continued');

    // The same path as the in-memory trainer on the same features: iteration by iteration, the same holdout losses.
    const store = new ArtifactStore(TEST_ARTIFACTS);
    const metadata = readMetadata(fs.readFileSync(await store.fetch(result.modelUri)));
    const features = (await store.find<FeatureSet>('features', metadata['sluice.features_fingerprint'])) as FeatureSet;
    const loaded = loadSpecFile(spec);
    const trainer = { ...loaded.spec.trainer };
    if (trainer.type === 'logistic_regression') delete trainer.chunk_rows;
    const inMemory = await trainModel(store, { loaded: { ...loaded, spec: { ...loaded.spec, trainer } }, features });
    const parallel = JSON.parse(metadata['sluice.metrics']) as { validation_log_loss: number; best_iteration: number; iterations: number };
    expect(parallel.iterations).toBe(inMemory.model.training.iterations);
    expect(parallel.best_iteration).toBe(inMemory.model.training.bestIteration);
    expect(Math.abs(parallel.validation_log_loss - inMemory.model.training.validationLoss) / inMemory.model.training.validationLoss).toBeLessThan(1e-5);
  });

  it('retries a failed chunk alone: the iteration goes on with the sums of the other chunks', async () => {
    const spec = smallFlightsSpec('data-parallel-retry', (s) => {
      s.trainer = { type: 'logistic_regression', chunk_rows: 90_000 };
    });
    const workflowId = `data-parallel-retry-${process.pid}`;
    let calls = 0;
    const result = await h.withWorker(
      () => h.client.workflow.execute(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId }),
      (activities) => ({
        ...activities,
        // The fifth chunk of the run fails once, as a worker lost in the middle of it would.
        async logisticChunkSums(input) {
          if (++calls === 5) throw new Error('worker lost');
          return activities.logisticChunkSums(input);
        },
      }),
    );
    expect(result.promoted).toBe(true);
    const fits = [];
    for await (const run of h.client.workflow.list({ query: `WorkflowType = 'fitLogistic' AND WorkflowId STARTS_WITH '${workflowId}-fit-'` })) fits.push(run.workflowId);
    const events = (await h.client.workflow.getHandle(fits[0]).fetchHistory()).events ?? [];
    const started = events.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 1);
    const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'logisticChunkSums').length;
    const iterations = Number(/^(\d+) iterations/.exec(result.steps.find((s) => s.name === 'train')?.detail ?? '')?.[1]);
    // Every chunk was scheduled once per pass (4 fit chunks twice, 1 holdout chunk once per iteration); only the failed one ran twice.
    expect(scheduled).toBe(iterations * (2 * 4 + 1));
    expect(started.filter((attempt) => attempt === 2)).toHaveLength(1);
    expect(calls).toBe(scheduled + 1);
  });
});
