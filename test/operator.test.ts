import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { registerLegacyExternal } from './support/legacy-external';
import { registryQueueOf } from '../workers/config';
import { sqlString, withDuckDB } from '../activities/sql/duckdb';
import { batchInference, inferenceProgressQuery } from '../workflows/batch-inference';
import { ledgerQuery } from '../contracts/ledger';
import { abortSignal, retrySignal, retryUpdate, skipSignal, skipUpdate } from '../workflows/operator';
import { SluiceStatus } from '../contracts/search-attributes';
import { progressQuery, trainPipeline } from '../workflows/train-pipeline';
import { pipelineSpec, smallFlightsSpec, writeSpec } from './support/specs';
import { eventually } from './support/eventually';
import { scheduledActivities } from './support/history';
import { harness, TEST_ARTIFACTS, type TestHarness } from './support/temporal';
import { recordHistory } from './support/record-history';
import { ArtifactStore } from '../activities/storage/artifact-store';

const ROOT = path.resolve(__dirname, '..');
const DATA = path.resolve(ROOT, 'node_modules', 'vega-datasets', 'data');
let h: TestHarness;
let data: string;
let counter = 0;

beforeAll(async () => {
  h = await harness('operator');
  data = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-operator-'));
});
afterAll(async () => {
  await h?.close();
});

describe('resume after a fix', () => {
  it('waits for an operator when a step fails on bad data, and after the fix and a retry completes without re-running earlier steps', async () => {
    const airports = path.join(data, 'airports.csv');
    fs.copyFileSync(path.join(DATA, 'airports.csv'), airports);
    const spec = smallFlightsSpec('op-train', (s) => (s.sources.airports.path = airports));
    const good = fs.readFileSync(airports, 'utf8');
    fs.writeFileSync(airports, `${good.split('\n').slice(0, 50).join('\n')}\n"unterminated,quote,row\n`);
    const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `op-train-${process.pid}-${++counter}` });
    await h.withWorker(async () => {
      const waiting = await eventually(() => handle.query(progressQuery), (p) => (p.awaitingOperator?.length ?? 0) > 0, 'the failed step to wait');
      expect(waiting.awaitingOperator?.[0]).toMatchObject({ step: 'features', errorType: 'SluiceDataError' });
      expect(waiting.awaitingOperator?.[0].error).toMatch(/^(sources\.airports|features\.sql): /);
      await eventually(() => handle.describe(), (d) => d.typedSearchAttributes.get(SluiceStatus) === 'awaiting-operator', 'the status attribute');
      fs.writeFileSync(airports, good); // the fix
      await handle.signal(retrySignal, { actor: 'alice', reason: 'restored airports.csv' });
      const result = await handle.result();
      expect(result.modelVersion).toBe(1);
      const log = (await handle.query(progressQuery)).operatorLog;
      expect(log).toEqual([expect.objectContaining({ action: 'retry', step: 'features', actor: 'alice' })]);
    });
    const activities = (await scheduledActivities(handle)).map((a) => a.type);
    // The retry re-read the spec (unchanged here), and ran only the failed step again.
    expect(activities.filter((a) => a === 'loadSpec')).toHaveLength(2);
    expect(activities.filter((a) => a === 'extract')).toHaveLength(1);
    expect(activities.filter((a) => a === 'buildFeatures')).toHaveLength(2);
  });

  it('re-reads a fixed spec on retry and goes on from the first step whose inputs changed, recording both spec hashes', async () => {
    const good = fs.readFileSync(smallFlightsSpec('op-spec-fix'), 'utf8');
    const file = path.join(data, 'op-spec-fix.yaml');
    fs.writeFileSync(file, good.replace('ln(s.distance)', 'ln(s.distnce)')); // a typo
    const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec: file }], taskQueue: h.config.taskQueue, workflowId: `op-spec-fix-${process.pid}` });
    const result = await h.withWorker(async () => {
      const waiting = await eventually(() => handle.query(progressQuery), (p) => (p.awaitingOperator?.length ?? 0) > 0, 'the failed step to wait');
      expect(waiting.awaitingOperator?.[0]).toMatchObject({ step: 'features' });
      expect(waiting.awaitingOperator?.[0].error).toMatch(/^features\.sql: column `distnce` does not exist in `s` \(the rows of `source`\); its columns, closest first: distance, /);
      // The failed step shows as failed (with what it waits for), never as running.
      const features = waiting.steps.find((s) => s.name === 'features');
      expect(features).toMatchObject({ status: 'failed', detail: expect.stringMatching(/^awaiting an operator \(retry, skip or abort\): features\.sql: column `distnce` does not exist/) });
      fs.writeFileSync(file, good); // the fix
      await handle.signal(retrySignal, { actor: 'dana', reason: 'fixed the typo' });
      return handle.result();
    });
    recordHistory(handle, 'operator-retry-spec-fix');
    expect(result.specChanges).toEqual([expect.objectContaining({ step: 'features', to: result.specHash })]);
    expect(result.specChanges?.[0].from).not.toBe(result.specHash);
    expect(fs.readFileSync((result.report as { file: string }).file, 'utf8')).toContain(`retry of features read a fixed spec, ${result.specChanges?.[0].from.slice(0, 12)} → ${result.specHash.slice(0, 12)}`);
    const activities = (await scheduledActivities(handle)).map((a) => a.type);
    expect(activities.filter((a) => a === 'loadSpec')).toHaveLength(2);
    expect(activities.filter((a) => a === 'extract')).toHaveLength(1);
    expect(activities.filter((a) => a === 'buildFeatures')).toHaveLength(2);
    expect(activities.filter((a) => a === 'train')).toHaveLength(1);
  });

  it('batch inference re-reads a fixed spec on retry too: a typo in a feature the model does not use, fixed, and extract runs once', async () => {
    const sink = path.join(data, 'spec-fix-sink');
    const good = fs.readFileSync(
      smallFlightsSpec('op-infer-fix', (s) => void (s.inference = { shard_rows: 100_000, slice_rows: 100_000, max_parallel_shards: 1, sink: { type: 'parquet', path: sink } })),
      'utf8',
    );
    const file = path.join(data, 'op-infer-fix.yaml');
    fs.writeFileSync(file, good.replace('sin(2 * pi() * hour(s.date) / 24)', 'sin(2 * pi() * hour(s.dat) / 24)')); // hour_sin: the model does not read it
    const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'byo', 'byo-model.schema.json'), 'utf8'));
    const handle = await h.withWorker(async () => {
      // A version registered before registration evaluated models: inference computes its features from the spec.
      await registerLegacyExternal(h.client, registryQueueOf(h.config), new ArtifactStore(TEST_ARTIFACTS), 'op-infer-fix', path.join(ROOT, 'test', 'fixtures', 'byo', 'byo-model.onnx'), schema.features);
      return h.client.workflow.start(batchInference, { args: [{ spec: file, partition: '2001-01-25', modelVersion: 1 }], taskQueue: h.config.taskQueue, workflowId: `op-infer-fix-${process.pid}` });
    });
    const result = await h.withWorker(async () => {
      const waiting = await eventually(() => handle.query(inferenceProgressQuery), (p) => (p.awaitingOperator?.length ?? 0) > 0, 'the failed step');
      expect(waiting.awaitingOperator?.[0]).toMatchObject({ step: 'features' });
      expect(waiting.awaitingOperator?.[0].error).toMatch(/^features\.sql: column `dat` does not exist in `s` \(the rows of `source`\); its columns, closest first: date, /);
      fs.writeFileSync(file, good); // the fix
      await handle.executeUpdate(retryUpdate, { args: [{ actor: 'hana', reason: 'fixed the typo' }] });
      return handle.result();
    });
    expect(result.rows).toBeGreaterThan(10_000);
    expect(result.specChanges).toEqual([expect.objectContaining({ step: 'features' })]);
    const activities = (await scheduledActivities(handle)).map((a) => a.type);
    expect(activities.filter((a) => a === 'extract')).toHaveLength(1);
    expect(activities.filter((a) => a === 'buildFeatures')).toHaveLength(2);
    expect(fs.readdirSync(sink)).toEqual(['day=2001-01-25']);
  });

  it('lets an operator skip a failed inference shard where the spec allows it, publishing the other days', async () => {
    const flights = path.join(data, 'flights.parquet');
    await withDuckDB((c) =>
      c.run(
        `COPY (SELECT * REPLACE (CASE WHEN CAST(date AS DATE) = DATE '2001-01-26' THEN NULL ELSE distance END AS distance) FROM read_parquet(${sqlString(path.join(DATA, 'flights-3m.parquet'))}) WHERE date < DATE '2001-01-28') TO ${sqlString(flights)} (FORMAT parquet)`,
      ),
    );
    const sink = path.join(data, 'skip-sink');
    const spec = smallFlightsSpec('op-skip', (s) => {
      s.sources.flights.path = flights;
      s.inference = { shard_rows: 17_000, slice_rows: 17_000, max_parallel_shards: 2, sink: { type: 'parquet', path: sink } };
      s.on_failure = { skippable: ['score-shard'] };
    });
    const result = await h.withWorker(async () => {
      await (await h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `op-skip-train-${process.pid}` })).result();
      const handle = await h.client.workflow.start(batchInference, { args: [{ spec, from: '2001-01-25', to: '2001-01-27' }], taskQueue: h.config.taskQueue, workflowId: `op-skip-${process.pid}` });
      const waiting = await eventually(() => handle.query(inferenceProgressQuery), (p) => (p.awaitingOperator?.length ?? 0) > 0, 'the failed shard');
      expect(waiting.awaitingOperator?.[0]).toMatchObject({ step: 'score-shard-1', skippable: true, errorType: 'SluiceDataError' });
      expect(waiting.awaitingOperator?.[0].error).toContain('rows in 2001-01-26 .. 2001-01-26 have NULL, NaN or infinite features');
      await handle.signal(skipSignal, { actor: 'bob', step: 'score-shard-1', reason: 'source fix for the 26th comes tomorrow' });
      const skipped = await handle.result();
      recordHistory(handle, 'operator-skip');
      return skipped;
    });
    expect(result.skippedDays).toEqual(['2001-01-26']);
    expect(fs.readdirSync(sink).sort()).toEqual(['day=2001-01-25', 'day=2001-01-27']);
  });

  it('refuses to skip a training step, and aborts on request with the step and its error', async () => {
    const airports = path.join(data, 'broken-airports.csv');
    fs.writeFileSync(airports, 'iata,name\n"broken\n');
    const spec = smallFlightsSpec('op-abort', (s) => (s.sources.airports.path = airports));
    const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `op-abort-${process.pid}-${++counter}` });
    const err = await h.withWorker(async () => {
      await eventually(() => handle.query(progressQuery), (p) => (p.awaitingOperator?.length ?? 0) > 0, 'the failed step');
      await handle.signal(skipSignal, { actor: 'carol' });
      const after = await eventually(() => handle.query(progressQuery), (p) => (p.operatorLog?.length ?? 0) > 0, 'the refusal');
      expect(after.operatorLog?.[0]).toMatchObject({ action: 'refused-skip', step: 'features' });
      expect(after.awaitingOperator).toHaveLength(1);
      await handle.signal(abortSignal, { actor: 'carol', reason: 'wrong airports file' });
      const aborted = await handle.result().then(() => undefined, (e: unknown) => e);
      recordHistory(handle, 'operator-abort');
      return aborted;
    });
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as { type?: string; message?: string };
    expect(cause.type).toBe('SluiceAborted');
    // The failed attempt's cost is in the run's ledger (and counts against its budget).
    const failedAttempt = (await h.withWorker(() => handle.query(ledgerQuery))).entries.find((e) => e.step === 'features (failed)');
    expect(failedAttempt?.cost.attempts).toBe(1);
    expect(failedAttempt?.cost.wallSeconds).toBeGreaterThan(0);
    expect(cause.message).toMatch(/^trainPipeline aborted by carol at step features \(wrong airports file\); the step had failed with: (sources\.airports|features\.sql): /);
  });
});

describe('operator answers as updates', () => {
  it('refuses an answer that would do nothing, at once and with the reason, and a failed step waits no longer than on_failure.wait_timeout', async () => {
    const airports = path.join(data, 'timeout-airports.csv');
    fs.writeFileSync(airports, 'iata,name\n"broken\n');
    const spec = smallFlightsSpec('op-timeout', (s) => {
      s.sources.airports.path = airports;
      s.on_failure = { wait_timeout: '4s' };
    });
    const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `op-timeout-${process.pid}` });
    const err = await h.withWorker(async () => {
      await eventually(() => handle.query(progressQuery), (p) => (p.awaitingOperator?.length ?? 0) > 0, 'the failed step');
      const refusal = await handle.executeUpdate(skipUpdate, { args: [{ actor: 'erin' }] }).then(() => undefined, (e: unknown) => e);
      expect(refusal).toBeInstanceOf(WorkflowUpdateFailedError);
      expect((refusal as WorkflowUpdateFailedError).cause?.message).toBe('the spec does not allow skipping features (on_failure.skippable lists the steps that may be skipped)');
      const wrongStep = await handle.executeUpdate(retryUpdate, { args: [{ actor: 'erin', step: 'train' }] }).then(() => undefined, (e: unknown) => e);
      expect((wrongStep as WorkflowUpdateFailedError).cause?.message).toBe('step train does not wait for an operator; waiting: features');
      const timedOut = await handle.result().then(() => undefined, (e: unknown) => e);
      recordHistory(handle, 'operator-wait-timeout');
      return timedOut;
    });
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as { type?: string; message?: string };
    expect(cause.type).toBe('SluiceOperatorTimeout');
    expect(cause.message).toMatch(/^trainPipeline: step features failed and no operator answered within 4s \(on_failure\.wait_timeout\); the step had failed with: (sources\.airports|features\.sql): /);
  });

  it('accepts a retry as an update and answers which steps it applied to', async () => {
    const airports = path.join(data, 'update-airports.csv');
    const good = fs.readFileSync(path.join(DATA, 'airports.csv'), 'utf8');
    fs.writeFileSync(airports, 'iata,name\n"broken\n');
    const spec = smallFlightsSpec('op-update', (s) => (s.sources.airports.path = airports));
    const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `op-update-${process.pid}` });
    const result = await h.withWorker(async () => {
      await eventually(() => handle.query(progressQuery), (p) => (p.awaitingOperator?.length ?? 0) > 0, 'the failed step');
      fs.writeFileSync(airports, good);
      expect(await handle.executeUpdate(retryUpdate, { args: [{ actor: 'frank', reason: 'restored' }] })).toEqual({ action: 'retry', steps: ['features'] });
      return handle.result();
    });
    expect(result.modelVersion).toBeGreaterThanOrEqual(1);
  });
});

describe('no workflow task ever fails', () => {
  it('a one-class validation window is a clear, non-retryable data error, not a crash of the workflow code', async () => {
    const spec = pipelineSpec('seattle-rain');
    spec.name = 'op-one-class';
    spec.split.validate = { from: '2015-06-30', to: '2015-06-30' }; // one day, one label
    spec.on_failure = { wait_for_operator: false };
    const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec: writeSpec('op-one-class', spec) }], taskQueue: h.config.taskQueue, workflowId: `op-one-class-${process.pid}` });
    const err = await h.withWorker(() => handle.result().then(() => undefined, (e: unknown) => e));
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause?.cause as { type?: string; message?: string };
    expect(cause.type).toBe('SluiceDataError');
    expect(cause.message).toMatch(/^split\.validate: the validation window has one class \(every one of its 1 labels is [01]\), so AUC and the gates are undefined/);
    const history = await handle.fetchHistory();
    expect((history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
  });
});
