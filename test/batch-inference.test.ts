import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import pg from 'pg';
import { ArtifactStore } from '../activities/storage/artifact-store';
import { withDuckDB, sqlString } from '../activities/sql/duckdb';
import { scoreDataset } from '../activities/evaluate/evaluate';
import { loadFeatureSet } from '../activities/features/features';
import { readMetadata } from '../activities/onnx/graph-builder';
import type { ShardHeartbeat } from '../activities/inference/score-shard';
import { queryRegistry } from '../activities/registry/registry';
import { run } from '../scripts/sluice-cli';
import { batchInference, inferenceProgressQuery, type BatchInferenceInput } from '../workflows/batch-inference';
import { trainPipeline, type TrainPipelineResult } from '../workflows/train-pipeline';
import { smallFlightsSpec, type SpecInput } from './support/specs';
import { harness, TEST_ARTIFACTS, type TestHarness } from './support/temporal';
import { binaryMetrics } from '../contracts/metric-values';

const FLIGHTS = path.resolve(__dirname, '..', 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');
const ROOT = path.resolve(__dirname, '..');
let h: TestHarness;
let sinkRoot: string;
let counter = 0;

type Sink = NonNullable<SpecInput['inference']>['sink'];

/** The small flights spec with an inference section: 2 days per shard, 1 day per slice. */
function inferenceSpec(name: string, sink: Sink, change: (s: SpecInput) => void = () => undefined): string {
  return smallFlightsSpec(name, (s) => {
    s.inference = { shard_rows: 40_000, slice_rows: 8_000, max_parallel_shards: 2, sink };
    change(s);
  });
}

async function train(spec: string) {
  return (await h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `infer-train-${process.pid}-${++counter}` })).result();
}

function infer(input: BatchInferenceInput) {
  return h.client.workflow.start(batchInference, { args: [input], taskQueue: h.config.taskQueue, workflowId: `infer-test-${process.pid}-${++counter}` });
}

/** Rows per day of the real flights file in [from, to]. */
async function sourceCounts(from: string, to: string, file = FLIGHTS): Promise<Record<string, number>> {
  return withDuckDB(async (c) => {
    const rows = (
      await c.runAndReadAll(
        `SELECT strftime(CAST(date AS DATE), '%Y-%m-%d'), count(*) FROM read_parquet(${sqlString(file)}) WHERE CAST(date AS DATE) BETWEEN DATE ${sqlString(from)} AND DATE ${sqlString(to)} GROUP BY 1 ORDER BY 1`,
      )
    ).getRowsJS();
    return Object.fromEntries(rows.map(([d, n]) => [String(d), Number(n)]));
  });
}

/** Rows that are in the sink but not the source, or the other way round (as multisets of keys): 0 when none is lost or doubled. */
async function keyDifference(dir: string, from: string, to: string): Promise<number> {
  return withDuckDB(async (c) => {
    const sink = `SELECT date, origin, destination FROM read_parquet(${sqlString(path.join(dir, '*', '*.parquet'))})`;
    const source = `SELECT date, origin, destination FROM read_parquet(${sqlString(FLIGHTS)}) WHERE CAST(date AS DATE) BETWEEN DATE ${sqlString(from)} AND DATE ${sqlString(to)}`;
    const n = (await c.runAndReadAll(`SELECT (SELECT count(*) FROM (${sink} EXCEPT ALL ${source})) + (SELECT count(*) FROM (${source} EXCEPT ALL ${sink}))`)).getRowsJS()[0][0];
    return Number(n);
  });
}

/** Rows per day, distinct run ids and model versions, and the score range in a Parquet sink. */
async function parquetSink(dir: string) {
  return withDuckDB(async (c) => {
    const relation = `read_parquet(${sqlString(path.join(dir, '*', '*.parquet'))}, hive_partitioning = true)`;
    const perDay = (await c.runAndReadAll(`SELECT strftime(day, '%Y-%m-%d'), count(*) FROM ${relation} GROUP BY 1 ORDER BY 1`)).getRowsJS();
    const [runs, versions, minScore, maxScore] = (
      await c.runAndReadAll(`SELECT count(DISTINCT run_id), list(DISTINCT model_version), min(score), max(score) FROM ${relation}`)
    ).getRowsJS()[0];
    return { perDay: Object.fromEntries(perDay.map(([d, n]) => [String(d), Number(n)])), runs: Number(runs), versions, minScore: Number(minScore), maxScore: Number(maxScore) };
  });
}

beforeAll(async () => {
  h = await harness('infer');
  sinkRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-sinks-'));
  const result = await h.withWorker(() => train(inferenceSpec('wf-infer', { type: 'parquet', path: path.join(sinkRoot, 'scores') })));
  expect(result.promoted).toBe(true);
});
afterAll(async () => {
  await h?.close();
});

describe('batchInference on a real dev server', () => {
  it('publishes a partitioned Parquet dataset with lineage, scored like the validation set, and replaces it on a rerun', async () => {
    const dir = path.join(sinkRoot, 'scores');
    const spec = inferenceSpec('wf-infer', { type: 'parquet', path: dir });
    const first = await h.withWorker(async () => (await infer({ spec, from: '2001-01-22', to: '2001-01-24' })).result());
    const expected = await sourceCounts('2001-01-22', '2001-01-24');
    expect(first.rows).toBe(Object.values(expected).reduce((a, b) => a + b, 0));
    expect(first.shards).toBe(2);
    const sink = await parquetSink(dir);
    expect(sink.perDay).toEqual(expected);
    expect(sink.runs).toBe(1);
    expect(sink.versions).toEqual([1]);
    expect(sink.minScore).toBeGreaterThan(0);
    expect(sink.maxScore).toBeLessThan(1);
    expect(await keyDifference(dir, '2001-01-22', '2001-01-24')).toBe(0);

    // Same definition as training: the scores of the validation days equal what evaluation computed.
    const store = new ArtifactStore(TEST_ARTIFACTS);
    const trainedOn = readMetadata(fs.readFileSync(store.pathOf(first.modelUri)))['sluice.features_fingerprint'];
    const validate = (await loadFeatureSet(store, trainedOn, 'the model')).validate;
    expect(validate.rows).toBe(first.rows);
    const { scores } = await scoreDataset(store, first.modelUri, validate, 'delayed');
    const sinkSum = await withDuckDB(async (c) => Number((await c.runAndReadAll(`SELECT sum(score) FROM read_parquet(${sqlString(path.join(dir, '*', '*.parquet'))})`)).getRowsJS()[0][0]));
    expect(sinkSum).toBeCloseTo(scores.reduce((a, b) => a + b, 0), 1);

    const second = await h.withWorker(async () => (await infer({ spec, from: '2001-01-22', to: '2001-01-24' })).result());
    expect(second.rows).toBe(first.rows);
    const again = await parquetSink(dir);
    expect(again.perDay).toEqual(expected);
    expect(again.runs).toBe(1);
    expect(await keyDifference(dir, '2001-01-22', '2001-01-24')).toBe(0);
    expect(fs.readdirSync(dir).filter((d) => d.startsWith('.'))).toEqual([]);
  });

  it('publishes to a DuckDB table in one transaction, replacing days instead of duplicating them', async () => {
    const db = path.join(sinkRoot, 'scores.duckdb');
    const spec = inferenceSpec('wf-infer', { type: 'duckdb', path: db, table: 'flight_scores' });
    await h.withWorker(async () => {
      await (await infer({ spec, from: '2001-01-25', to: '2001-01-26' })).result();
      await (await infer({ spec, from: '2001-01-26', to: '2001-01-27' })).result();
    });
    const expected = await sourceCounts('2001-01-25', '2001-01-27');
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(db);
    const connection = await instance.connect();
    const rows = (await connection.runAndReadAll(`SELECT strftime(day, '%Y-%m-%d'), count(*), count(DISTINCT run_id) FROM flight_scores GROUP BY 1 ORDER BY 1`)).getRowsJS();
    connection.closeSync();
    instance.closeSync();
    expect(Object.fromEntries(rows.map(([d, n]) => [String(d), Number(n)]))).toEqual(expected);
    expect(rows.every(([, , runs]) => Number(runs) === 1)).toBe(true);
  });

  it('publishes to a PostgreSQL table on a real server, idempotently', async () => {
    const url = process.env.SLUICE_POSTGRES_URL;
    expect(url).toBeDefined();
    const spec = inferenceSpec('wf-infer', { type: 'postgres', table: 'flight_scores' });
    await h.withWorker(async () => {
      await (await infer({ spec, partition: '2001-01-25' })).result();
      await (await infer({ spec, partition: '2001-01-25' })).result();
    });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT count(*)::int AS n, count(DISTINCT run_id)::int AS runs, min(score) AS lo, max(score) AS hi FROM flight_scores WHERE day = '2001-01-25'");
      expect(rows[0].n).toBe((await sourceCounts('2001-01-25', '2001-01-25'))['2001-01-25']);
      expect(rows[0].runs).toBe(1);
      expect(rows[0].lo).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
  });

  it('resumes a shard from the slices staged on disk, even when no heartbeat carried them, with no row lost or doubled', async () => {
    const dir = path.join(sinkRoot, 'resume');
    const spec = inferenceSpec('wf-infer', { type: 'parquet', path: dir }, (s) => {
      if (s.inference) s.inference = { ...s.inference, shard_rows: 100_000 };
    });
    const handle = await infer({ spec, from: '2001-01-25', to: '2001-01-28' });
    const progress = await h.withWorker(
      async () => {
        await handle.result();
        return handle.query(inferenceProgressQuery);
      },
      (activities) => ({
        ...activities,
        async scoreShard(input) {
          const context = Context.current();
          if (context.info.attempt === 1) {
            // The first attempt dies after staging two slices, and none of its heartbeats reached the server.
            Object.assign(context, {
              heartbeat: (details: ShardHeartbeat) => {
                if (details.slicesDone >= 2) throw new Error('injected failure after the second slice');
              },
            });
          }
          return activities.scoreShard(input);
        },
      }),
    );
    expect(progress.shards).toHaveLength(1);
    expect(progress.shards[0].resumedFromSlice).toBe(2);
    const sink = await parquetSink(dir);
    expect(sink.perDay).toEqual(await sourceCounts('2001-01-25', '2001-01-28'));
    expect(await keyDifference(dir, '2001-01-25', '2001-01-28')).toBe(0);
  });

  it('refuses a partition whose schema drifted from training, and publishes nothing', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-drift-'));
    const file = path.join(data, 'flights.parquet');
    await withDuckDB((c) => c.run(`COPY (SELECT * FROM read_parquet(${sqlString(FLIGHTS)}) WHERE date < DATE '2001-01-29') TO ${sqlString(file)} (FORMAT parquet)`));
    const dir = path.join(sinkRoot, 'drift');
    const spec = inferenceSpec('wf-drift', { type: 'parquet', path: dir }, (s) => {
      s.sources.flights.path = file;
      s.on_failure = { wait_for_operator: false };
    });
    await h.withWorker(() => train(spec));
    // A new export of the source in which distance became text.
    await withDuckDB((c) => c.run(`COPY (SELECT * REPLACE (CAST(distance AS VARCHAR) || ' mi' AS distance) FROM read_parquet(${sqlString(FLIGHTS)}) WHERE date < DATE '2001-01-29') TO ${sqlString(file)} (FORMAT parquet)`));
    const handle = await infer({ spec, partition: '2001-01-28' });
    const err = await h.withWorker(() => handle.result().then(() => undefined, (e: unknown) => e));
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause?.cause as { type?: string; message?: string };
    expect(cause.type).toBe('SluiceDataError');
    expect(cause.message).toMatch(/^schema drift in partition 2001-01-28: features\.sql no longer runs on this input \(Binder Error/);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('scores with a model trained elsewhere (scikit-learn via skl2onnx), registered with `sluice models register` and evaluated like a trained one', async () => {
    const dir = path.join(sinkRoot, 'byo');
    const spec = inferenceSpec('wf-byo', { type: 'parquet', path: dir }, (s) => void (s.gates = { beat_baseline: false }));
    const byo = path.join(ROOT, 'test', 'fixtures', 'byo');
    const lines: string[] = [];
    // The registry is read while the worker runs: a query needs a worker polling the registry's queue.
    const { result, version } = await h.withWorker(async () => {
      const code = await run(['models', 'register', spec, path.join(byo, 'byo-model.onnx'), '--schema', path.join(byo, 'byo-model.schema.json'), '--json'], h.client, (l) => lines.push(l), h.config);
      expect(code).toBe(0);
      return { result: await (await infer({ spec, partition: '2001-01-25', modelVersion: 1 })).result(), version: (await queryRegistry(h.client, 'wf-byo'))?.versions[0] };
    });
    const registered = JSON.parse(lines.join('\n')) as TrainPipelineResult;
    expect(registered.modelVersion).toBe(1);
    // Evaluated on the spec's validation window when registered: it has metrics, and its import step says what it read.
    expect(registered.metrics.rows).toBeGreaterThan(10_000);
    expect(binaryMetrics(registered.metrics).auc).toBeGreaterThan(0.5);
    expect(registered.steps.find((s) => s.name === 'train')?.detail).toBe('imported byo-model.onnx, 3 features');
    expect(version).toMatchObject({ version: 1, origin: 'external', featureNames: ['hour_of_day', 'log_distance', 'origin_delay_rate'], description: 'scikit-learn StandardScaler + LogisticRegression' });
    // Its input schema carries the feature SQL's types (the drift check compares them), not the FLOAT Sluice stores.
    expect(version?.featureTypes).toEqual([{ name: 'hour_of_day', type: 'DOUBLE' }, { name: 'log_distance', type: 'DOUBLE' }, { name: 'origin_delay_rate', type: 'DOUBLE' }]);
    expect(result.modelVersion).toBe(1);
    const sink = await parquetSink(dir);
    expect(sink.perDay).toEqual(await sourceCounts('2001-01-25', '2001-01-25'));
    expect(sink.maxScore).toBeGreaterThan(sink.minScore);
    expect(sink.maxScore).toBeLessThan(1);
  });

  it('spreads shards over two worker processes', async () => {
    const dir = path.join(sinkRoot, 'two-workers');
    const spec = inferenceSpec('wf-infer', { type: 'parquet', path: dir }, (s) => {
      if (s.inference) s.inference = { ...s.inference, shard_rows: 17_000, max_parallel_shards: 4 };
    });
    const env = { ...process.env, TEMPORAL_ADDRESS: h.config.address, SLUICE_TASK_QUEUE: h.config.taskQueue, SLUICE_ARTIFACTS: TEST_ARTIFACTS };
    const workers: ChildProcess[] = [0, 1].map(() => spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], { cwd: ROOT, env, stdio: 'ignore' }));
    try {
      const handle = await infer({ spec, from: '2001-01-22', to: '2001-01-29' });
      const result = await handle.result();
      expect(result.shards).toBeGreaterThanOrEqual(8);
      const history = await handle.fetchHistory();
      const scheduled = new Set(
        (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'scoreShard').map((e) => String(e.eventId)),
      );
      const identities = new Set(
        (history.events ?? [])
          .filter((e) => e.activityTaskStartedEventAttributes && scheduled.has(String(e.activityTaskStartedEventAttributes.scheduledEventId)))
          .map((e) => e.activityTaskStartedEventAttributes?.identity),
      );
      expect(identities.size).toBe(2);
      expect((await parquetSink(dir)).perDay).toEqual(await sourceCounts('2001-01-22', '2001-01-29'));
    } finally {
      for (const w of workers) w.kill('SIGTERM');
    }
  });
});
