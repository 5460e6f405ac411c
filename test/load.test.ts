import { queryRegistry } from '../activities/registry/registry';
import { trainPipeline } from '../workflows/train-pipeline';
import { smallFlightsSpec } from './support/specs';
import { harness, type TestHarness } from './support/temporal';
import { binaryMetrics } from '../contracts/metric-values';

let h: TestHarness;

beforeAll(async () => {
  h = await harness('load');
});
afterAll(async () => {
  await h?.close();
});

describe('load', () => {
  it('runs 20 training pipelines started at once against one dev server, each to a correct result', async () => {
    const runs = 20;
    const specs = Array.from({ length: runs }, (_, i) => smallFlightsSpec(`load-${i}`));
    const started = Date.now();
    const { results, registries } = await h.withWorker(async () => {
      const handles = await Promise.all(
        specs.map((spec, i) => h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `load-${process.pid}-${i}` })),
      );
      const results = await Promise.all(handles.map((handle) => handle.result()));
      const registries = await Promise.all(results.map((r) => queryRegistry(h.client, r.pipeline)));
      return { results, registries };
    });
    const seconds = (Date.now() - started) / 1000;
    console.log(`${runs} concurrent trainPipeline runs completed in ${seconds.toFixed(1)} s`);
    expect(results.map((r) => r.pipeline).sort()).toEqual(specs.map((_, i) => `load-${i}`).sort());
    // Same data and settings: one model, registered once per pipeline, with identical metrics.
    expect(new Set(results.map((r) => r.modelUri)).size).toBe(1);
    expect(new Set(results.map((r) => binaryMetrics(r.metrics).auc)).size).toBe(1);
    for (const [i, r] of results.entries()) {
      expect(r.modelVersion).toBe(1);
      expect(r.promoted).toBe(true);
      expect(registries[i]?.aliases).toEqual({ champion: 1 });
    }
  });
});
