import fs from 'node:fs';
import path from 'node:path';
import { scoreDataset } from '../activities/evaluate/evaluate';
import { loadFeatureSet } from '../activities/features/features';
import { readMetadata } from '../activities/onnx/graph-builder';
import { ArtifactStore } from '../activities/storage/artifact-store';
import { sqlString, withDuckDB } from '../activities/sql/duckdb';
import { formatInferenceResult } from '../scripts/cli/format';
import { backfill } from '../workflows/backfill';
import { batchInference } from '../workflows/batch-inference';
import { rootMessage } from '../contracts/root-cause';
import { trainPipeline } from '../workflows/train-pipeline';
import type { MulticlassMetrics } from '../contracts/metrics';
import { pipelineSpec, writeSpec, type SpecInput } from './support/specs';
import { harness, TEST_ARTIFACTS, type TestHarness } from './support/temporal';
import { recordHistory } from './support/record-history';

/**
 * pipelines/penguins.yaml end to end on the dev server: data with no time column (a JSON source), split by a hash of
 * each penguin's id, trained (softmax regression), gated, promoted, and scored whole into one snapshot partition —
 * the same probabilities in two shards or in many, equal to those evaluation computed for the validation rows, and
 * the partition replaced whole when the same day is scored again.
 */
const store = new ArtifactStore(TEST_ARTIFACTS);
const COLUMNS = ['p_adelie', 'p_chinstrap', 'p_gentoo'];
let h: TestHarness;
let sinks: string;

beforeAll(async () => {
  h = await harness('penguins');
  // In the test state (not the system's temporary folder), so a recorded history names no folder of the machine.
  sinks = path.join(TEST_ARTIFACTS, '..', `penguins-sinks-${process.pid}`);
  fs.rmSync(sinks, { recursive: true, force: true });
});
afterAll(() => h?.close());

/** penguins.yaml named `penguins-test`, scoring into `sink` with `inference` changed. */
function penguins(sink: string, inference: Partial<NonNullable<SpecInput['inference']>> = {}): string {
  const spec = pipelineSpec('penguins');
  spec.name = 'penguins-test';
  spec.on_failure = { wait_for_operator: false };
  spec.inference = { ...(spec.inference as NonNullable<SpecInput['inference']>), ...inference, sink: { type: 'parquet', path: path.join(sinks, sink) } };
  return writeSpec(`penguins-${sink}`, spec);
}

/** Every row of a Parquet sink as `day|penguin_id|predicted_class|p_…`, sorted. */
async function sinkRows(dir: string): Promise<string[]> {
  return withDuckDB(async (c) => {
    const columns = ['CAST(day AS VARCHAR)', 'CAST(penguin_id AS VARCHAR)', 'predicted_class', ...COLUMNS.map((k) => `CAST(${k} AS VARCHAR)`)];
    const reader = await c.runAndReadAll(`SELECT concat_ws('|', ${columns.join(', ')}) FROM read_parquet(${sqlString(path.join(dir, '*', '*.parquet'))}, hive_partitioning = true)`);
    return reader.getRowsJS().map(([row]) => String(row)).sort();
  });
}

/** The validation rows' probabilities as evaluation computed them, as `penguin_id|p_…` (DuckDB's shortest float text). */
async function validationRows(modelUri: string): Promise<string[]> {
  const trainedOn = readMetadata(fs.readFileSync(store.pathOf(modelUri)))['sluice.features_fingerprint'];
  const validate = (await loadFeatureSet(store, trainedOn, 'the model')).validate;
  const { scores, classes } = await scoreDataset(store, modelUri, validate, 'species', 'multiclass');
  expect(classes).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
  return withDuckDB(async (c) => {
    await c.run(`CREATE TABLE s (i INTEGER, score FLOAT)`);
    const appender = await c.createAppender('s');
    scores.forEach((score, i) => {
      appender.appendInteger(i);
      appender.appendFloat(score);
      appender.endRow();
    });
    appender.closeSync();
    const ids = `(SELECT row_number() OVER () - 1 AS r, penguin_id FROM read_parquet(${sqlString(store.pathOf(validate.uri))}))`;
    const reader = await c.runAndReadAll(
      `SELECT concat_ws('|', CAST(penguin_id AS VARCHAR), string_agg(CAST(score AS VARCHAR), '|' ORDER BY i)) FROM s JOIN ${ids} ON s.i // 3 = r GROUP BY penguin_id`,
    );
    return reader.getRowsJS().map(([row]) => String(row)).sort();
  });
}

describe('pipelines/penguins.yaml: a hash split, no time column', () => {
  it('trains and promotes a species model, and scores the whole source into one partition, the same in any shards', async () => {
    const { trained, twoShards, many, again } = await h.withWorker(async () => {
      const trained = await h.client.workflow.execute(trainPipeline, { args: [{ spec: penguins('two') }], taskQueue: h.config.taskQueue, workflowId: `penguins-train-${process.pid}` });
      const infer = async (spec: string, id: string) => {
        const handle = await h.client.workflow.start(batchInference, { args: [{ spec, partition: 'latest' }], taskQueue: h.config.taskQueue, workflowId: `penguins-${id}-${process.pid}` });
        const result = await handle.result();
        if (id === 'many') recordHistory(handle, 'hash-split-inference');
        return result;
      };
      const twoShards = await infer(penguins('two'), 'two');
      const many = await infer(penguins('many', { shard_rows: 40, slice_rows: 15, max_parallel_shards: 3 }), 'many');
      const again = await infer(penguins('two'), 'again');
      const refused = await h.client.workflow.start(backfill, { args: [{ spec: penguins('two'), from: '2001-01-01', to: '2001-01-02' }], taskQueue: h.config.taskQueue, workflowId: `penguins-backfill-${process.pid}` });
      const backfilled = await refused.result().then(() => 'backfilled', (err: unknown) => rootMessage(err));
      recordHistory(refused, 'backfill-hash-refused');
      expect(backfilled).toMatch(/: a pipeline split by hash has no days to backfill: `sluice infer .*penguins-two-[0-9a-f]+\.yaml latest` scores its whole source$/);
      return { trained, twoShards, many, again };
    });

    const m = trained.metrics as MulticlassMetrics;
    console.log(`penguins: validation log loss ${m.logLoss.toFixed(4)} (species shares ${m.baselineLogLoss.toFixed(4)}), accuracy ${m.accuracy.toFixed(4)}, macro-F1 ${m.macroF1.toFixed(4)} on ${m.rows} rows`);
    expect(trained.promoted).toBe(true);
    expect(m.task).toBe('multiclass');
    expect(m.perClass.map((c) => c.class)).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    expect(m.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(m.logLoss).toBeLessThan(m.baselineLogLoss);
    expect(trained.steps.find((s) => s.name === 'features')?.detail).toMatch(new RegExp(`^\\d+ train / ${m.rows} validation rows, 7 features`));

    // One partition, the day the run planned it: every penguin, whatever the shards.
    const today = new Date().toISOString().slice(0, 10);
    expect(twoShards.snapshot).toBe(today);
    expect(twoShards.rows).toBe(342);
    expect(twoShards.shards).toBe(2);
    expect(many.shards).toBeGreaterThan(5);
    expect(fs.readdirSync(path.join(sinks, 'two')).filter((d) => d.startsWith('day='))).toEqual([`day=${today}`]);
    expect(formatInferenceResult(twoShards).split('\n').slice(0, 2)).toEqual([
      `Scored 342 rows of penguins-test (the whole source, 2 shards) with model v${twoShards.modelVersion}`,
      `Published to parquet sink ${twoShards.sink.location}: partition day=${today}, 342 rows`,
    ]);
    const two = await sinkRows(path.join(sinks, 'two'));
    expect(two).toHaveLength(342);
    expect(await sinkRows(path.join(sinks, 'many'))).toEqual(two);
    // Scored again the same day: the partition is replaced, not added to.
    expect(again.rows).toBe(342);
    expect(await sinkRows(path.join(sinks, 'two'))).toEqual(two);

    // Serving scores the validation penguins exactly as evaluation did.
    const validated = await validationRows(twoShards.modelUri);
    expect(validated).toHaveLength(m.rows);
    const served = new Map(two.map((row) => {
      const [, id, , ...p] = row.split('|');
      return [id, `${id}|${p.join('|')}`];
    }));
    expect(validated.map((row) => served.get(row.split('|')[0]))).toEqual(validated);
  });
});
