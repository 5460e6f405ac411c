/**
 * Scores a range of days with the activities directly (plan → shards → publish, no Temporal) and
 * prints one JSON line: rows, seconds and this process's peak RSS. The benchmark runs it in a child
 * process per range so each peak is measured alone.
 *   tsx bench/score-range.ts <artifact root> <model uri> <features fingerprint> <from> <to> <out dir>
 */
import { ArtifactStore } from '../activities/storage/artifact-store';
import { loadFeatureSet } from '../activities/features/features';
import { planInference } from '../activities/inference/plan';
import { scoreShard } from '../activities/inference/score-shard';
import { publishScores } from '../activities/sinks/publish';
import { loadSpecFile } from '../activities/spec/loader';

export async function scoreRange(root: string, modelUri: string, featuresFingerprint: string, from: string, to: string, out: string) {
  const store = new ArtifactStore(root);
  const loaded = loadSpecFile('pipelines/flights.yaml');
  if (!loaded.spec.inference) throw new Error('flights.yaml has no inference section');
  loaded.spec.inference.sink = { type: 'parquet', path: out };
  const features = await loadFeatureSet(store, featuresFingerprint, 'bench');
  const started = performance.now();
  const plan = await planInference(store, { loaded, window: { from, to }, stats: features.stats, modelFeatures: features.featureColumns, modelName: 'bench' });
  const staging = `artifact:inference/bench-${process.pid}`;
  const model = { uri: modelUri, version: 1, featureNames: features.featureColumns.map((c) => c.name) };
  let next = 0;
  let rows = 0;
  await Promise.all(
    Array.from({ length: loaded.spec.inference.max_parallel_shards }, async () => {
      while (next < plan.shards.length) {
        const shard = plan.shards[next++];
        const scored = await scoreShard(store, { loaded, stats: features.stats, model, shard, staging, runId: `bench-${process.pid}` });
        rows += scored.rows;
      }
    }),
  );
  await publishScores(store, { loaded: { ...loaded, baseDir: '.' }, staging, runId: `bench-${process.pid}`, modelVersion: 1, expectedRows: rows });
  return { rows, seconds: (performance.now() - started) / 1000, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
}

if (require.main === module) {
  const [root, modelUri, fingerprint, from, to, out] = process.argv.slice(2);
  scoreRange(root, modelUri, fingerprint, from, to, out).then(
    (r) => console.log(JSON.stringify(r)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
