import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArtifactStore } from '../activities/storage/artifact-store';
import { sqlIdent, sqlString, withDuckDB } from '../activities/sql/duckdb';
import { scoreDataset } from '../activities/evaluate/evaluate';
import { loadFeatureSet } from '../activities/features/features';
import { readMetadata } from '../activities/onnx/graph-builder';
import { batchInference, type BatchInferenceInput, type BatchInferenceResult } from '../workflows/batch-inference';
import { progressQuery as trainProgressQuery, trainPipeline } from '../workflows/train-pipeline';
import { pipelineNames, pipelineSpec, writeSpec, type SpecInput } from './support/specs';
import { harness, TEST_ARTIFACTS, type TestHarness } from './support/temporal';
import { binaryMetrics } from '../contracts/metric-values';
import { probabilityColumn } from '../contracts/classes';
import type { Task } from '../contracts/tasks';
import { kill, startPythonWorker } from './support/processes';

let h: TestHarness;
let sinks: string;
let counter = 0;
const store = new ArtifactStore(TEST_ARTIFACTS);

let python: ChildProcess;
let pythonQueue: string;

beforeAll(async () => {
  h = await harness('pit');
  sinks = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-pit-sinks-'));
  // The regression pipeline's LightGBM trains on the Python worker.
  pythonQueue = `${h.config.taskQueue}-python`;
  python = await startPythonWorker({ TEMPORAL_ADDRESS: h.config.address, SLUICE_PYTHON_TASK_QUEUE: pythonQueue, SLUICE_ARTIFACTS: TEST_ARTIFACTS });
});
afterAll(async () => {
  await kill(python);
  await h?.close();
});

type Inference = NonNullable<SpecInput['inference']>;

/**
 * The cases the invariance test runs: every pipeline of pipelines/ that stands alone (the multiclass
 * seattle-weather-type.yaml's probability per class among them; a Python trainer's on this file's Python worker), the
 * regression flights-delay.yaml (its `prediction`s), and seattle-rain with today's reported weather as a categorical feature
 * (its dictionary learned in training, applied to every day scored; one-hot by the logistic trainer inside the model).
 */
const CASES: Record<string, () => SpecInput> = {
  // A pipeline split by hash has no time to be invariant in (test/penguins.test.ts checks its shards and its validation rows).
  ...Object.fromEntries(pipelineNames().filter((name) => !('by' in pipelineSpec(name).split && pipelineSpec(name).split.by === 'hash')).map((name) => [name, () => onPython(pipelineSpec(name))])),
  // On three weeks (the regression's LightGBM on the whole window takes minutes): its first validation days have
  // a mean delay below the training mean's, so only an R² above −0.5 is asked for the model to be promoted.
  'flights-delay': () => ({
    ...pipelineSpec('flights-delay'),
    split: { train: { from: '2001-01-01', to: '2001-01-21' }, validate: { from: '2001-01-22', to: '2001-01-24' } },
    gates: { r2: { min: -0.5 } },
    execution: { python_task_queue: pythonQueue },
  }),
  'seattle-rain-categorical': () => {
    const spec = pipelineSpec('seattle-rain');
    spec.extract.query = spec.extract.query.replace(/\n\s*FROM weather/, ',\n       weather\nFROM weather');
    spec.features.sql = spec.features.sql.replace('s.wind,', 's.wind, s.weather AS weather_today,');
    spec.features.categorical = ['weather_today'];
    return spec;
  },
};
/** `spec` with its Python steps on this file's Python worker. */
function onPython(spec: SpecInput): SpecInput {
  return { ...spec, execution: { ...spec.execution, python_task_queue: pythonQueue } };
}
const caseSpec = (name: string): SpecInput => (CASES[name] as () => SpecInput)();

/** A case under a test name, scoring into a sink folder of its own, with `shards` changed. */
function variant(name: string, sink: string, shards: Partial<Inference> = {}): string {
  const spec = caseSpec(name);
  spec.name = `pit-${name}`;
  spec.inference = { ...(spec.inference as Inference), ...shards, sink: { type: 'parquet', path: path.join(sinks, name, sink) } };
  return writeSpec(`pit-${name}-${sink}`, spec);
}

async function infer(input: BatchInferenceInput): Promise<BatchInferenceResult> {
  const handle = await h.client.workflow.start(batchInference, { args: [input], taskQueue: h.config.taskQueue, workflowId: `pit-infer-${process.pid}-${++counter}` });
  return handle.result();
}

/**
 * Every scored row of a Parquet sink as `day|key…|score` (a regression's `prediction`, a multiclass model's
 * probability columns), sorted: equal lists mean the same rows with bit-identical scores.
 */
async function sinkRows(dir: string, keys: string[], scored = ['score']): Promise<string[]> {
  return withDuckDB(async (c) => {
    const columns = ['CAST(day AS VARCHAR)', ...keys.map((k) => `CAST(${sqlIdent(k)} AS VARCHAR)`), ...scored.map((column) => `CAST(${sqlIdent(column)} AS VARCHAR)`)];
    const reader = await c.runAndReadAll(`SELECT concat_ws('|', ${columns.join(', ')}) FROM read_parquet(${sqlString(path.join(dir, '*', '*.parquet'))}, hive_partitioning = true)`);
    return reader.getRowsJS().map(([row]) => String(row)).sort();
  });
}

/** The validation rows training scored (evaluation's scores, in the feature file's order), in the same form as {@link sinkRows}. */
async function validationRows(modelUri: string, keys: string[], time: string, label: string, task: Task): Promise<string[]> {
  const trainedOn = readMetadata(fs.readFileSync(store.pathOf(modelUri)))['sluice.features_fingerprint'];
  const validate = (await loadFeatureSet(store, trainedOn, 'the model')).validate;
  const { scores, classes } = await scoreDataset(store, modelUri, validate, label, task);
  const perRow = Math.max(1, classes.length);
  const ids = await withDuckDB(async (c) => {
    const columns = [`strftime(CAST(${sqlIdent(time)} AS DATE), '%Y-%m-%d')`, ...keys.map((k) => `CAST(${sqlIdent(k)} AS VARCHAR)`)];
    const reader = await c.runAndReadAll(`SELECT concat_ws('|', ${columns.join(', ')}) FROM read_parquet(${sqlString(store.pathOf(validate.uri))})`);
    return reader.getRowsJS().map(([row]) => String(row));
  });
  expect(ids).toHaveLength(scores.length / perRow);
  // DuckDB prints a FLOAT with the shortest text that reads back as the same float, like this.
  const text = await withDuckDB(async (c) => {
    await c.run('CREATE TABLE s (score FLOAT)');
    const appender = await c.createAppender('s');
    for (const score of scores) {
      appender.appendFloat(score);
      appender.endRow();
    }
    appender.closeSync();
    return (await c.runAndReadAll('SELECT CAST(score AS VARCHAR) FROM s')).getRowsJS().map(([v]) => String(v));
  });
  return ids.map((id, i) => `${id}|${text.slice(i * perRow, (i + 1) * perRow).join('|')}`).sort();
}

const onDays = (rows: string[], days: string[]) => rows.filter((r) => days.includes(r.slice(0, 10)));

describe.each(Object.keys(CASES))('%s: a day scores the same alone, in a range, in one-day shards, and in training', (name) => {
  it('gives bit-identical scores, equal to the validation scores training computed', async () => {
    const spec = caseSpec(name);
    const { keys, lookback } = spec.features;
    if ('by' in spec.split && spec.split.by === 'hash') throw new Error(`${name} is split by hash`);
    const validation = spec.split.validate;
    expect(lookback).toBeDefined(); // every pipeline here has windows over time
    const trained = await h.withWorker(async () => {
      const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec: variant(name, 'range') }], taskQueue: h.config.taskQueue, workflowId: `pit-train-${name}-${process.pid}` });
      const result = await handle.result();
      return { result, progress: await handle.query(trainProgressQuery) };
    });
    expect(trained.result.promoted).toBe(true);
    // A spec with categorical features (flights' airports, the rain case's weather): the model reads the coded columns and states their dictionary.
    if (spec.features.categorical) expect(Object.keys(JSON.parse(readMetadata(fs.readFileSync(store.pathOf(trained.result.modelUri)))['sluice.categories'])).sort()).toEqual([...spec.features.categorical].sort());

    // The first validation days: their history comes from before the window, where a split would lose it.
    const firstDays = [0, 1, 2].map((n) => new Date(Date.parse(`${validation.from}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10));
    const runs = await h.withWorker(async () => {
      const range = await infer({ spec: variant(name, 'range'), from: validation.from, to: validation.to });
      for (const day of firstDays) await infer({ spec: variant(name, 'alone'), partition: day });
      const smallest = await infer({ spec: variant(name, 'smallest', { shard_rows: 1, slice_rows: 1 }), from: firstDays[0], to: firstDays[2] });
      return { range, smallest };
    });
    expect(runs.smallest.shards).toBe(3);

    const metrics = trained.result.metrics;
    const scored = spec.task === 'regression' ? ['prediction'] : 'task' in metrics && metrics.task === 'multiclass' ? metrics.perClass.map((c) => probabilityColumn(c.class)) : ['score'];
    const rangeRows = await sinkRows(path.join(sinks, name, 'range'), keys ?? [], scored);
    const alone = await sinkRows(path.join(sinks, name, 'alone'), keys ?? [], scored);
    const smallest = await sinkRows(path.join(sinks, name, 'smallest'), keys ?? [], scored);
    expect(rangeRows).toHaveLength(runs.range.rows);
    expect(alone.length).toBeGreaterThan(0);
    expect(alone).toEqual(onDays(rangeRows, firstDays));
    expect(smallest).toEqual(alone);

    // Training scored the validation window with the same features: every validation row scores the same in serving.
    const validated = await validationRows(runs.range.modelUri, keys ?? [], spec.extract.time_column ?? '', spec.label.name, spec.task ?? 'binary');
    const dropped = trained.progress.steps.find((s) => s.name === 'features')?.detail ?? '';
    const horizonDays = spec.label.horizon ? 1 : 0;
    expect(validated).toEqual(rangeRows.filter((r) => horizonDays === 0 || r.slice(0, 10) !== validation.to));
    if (horizonDays > 0) expect(dropped).toMatch(/, \d+ dropped \(label horizon past the end of the data\)$/);
  });
});

describe('pipelines/seattle-rain.yaml end to end', () => {
  it('trains on lagged and rolling weather, beats its gates, and scores a single day', async () => {
    const result = await h.withWorker(async () => {
      const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec: variant('seattle-rain', 'e2e') }], taskQueue: h.config.taskQueue, workflowId: `pit-e2e-${process.pid}` });
      return handle.result();
    });
    expect(binaryMetrics(result.metrics).auc).toBeGreaterThan(0.75);
    const day = await h.withWorker(() => infer({ spec: variant('seattle-rain', 'e2e'), partition: '2015-06-30' }));
    expect(day.rows).toBe(1);
    expect((await sinkRows(path.join(sinks, 'seattle-rain', 'e2e'), ['date']))[0]).toMatch(/^2015-06-30\|2015-06-30\|0\.\d+$/);
  });
});
