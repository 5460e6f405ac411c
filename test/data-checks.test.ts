import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { sqlString, withDuckDB } from '../activities/sql/duckdb';
import { rootMessage } from '../contracts/root-cause';
import { SluiceChecks } from '../contracts/search-attributes';
import { formatInferenceResult, formatTrainResult } from '../scripts/cli/format';
import { batchInference, inferenceProgressQuery } from '../workflows/batch-inference';
import { skipSignal } from '../workflows/operator';
import { trainPipeline } from '../workflows/train-pipeline';
import { sluiceIn } from './support/cli';
import { eventually } from './support/eventually';
import { smallFlightsSpec, type SpecInput } from './support/specs';
import { harness, type TestHarness } from './support/temporal';
import { recordHistory } from './support/record-history';

/**
 * Data checks on the real dev server: expectations that block a training run on a short day, per-shard checks and
 * per-feature drift at scoring time (a day whose distances are 1.6× refused or warned per its severity, the other
 * days published), the SluiceChecks search attribute, and `sluice drift`.
 */
const FLIGHTS = path.resolve(__dirname, '..', 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');
const SHORT_DAY = '2001-01-17';
const SHIFTED_DAY = '2001-01-27';
let h: TestHarness;
let data: string;

beforeAll(async () => {
  h = await harness('checks');
  process.env.SLUICE_TASK_QUEUE = h.config.taskQueue;
  data = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-checks-'));
  // January, with half of one day's flights removed; and with one day's distances multiplied by 1.6 (miles read as km).
  await withDuckDB(async (c) => {
    const january = `SELECT * FROM read_parquet(${sqlString(FLIGHTS)}) WHERE date < DATE '2001-02-01'`;
    await c.run(`COPY (${january} AND NOT (CAST(date AS DATE) = DATE '${SHORT_DAY}' AND hash(date, origin, destination, delay) % 2 = 0)) TO ${sqlString(path.join(data, 'halved.parquet'))} (FORMAT parquet)`);
    await c.run(`COPY (SELECT * REPLACE (CASE WHEN CAST(date AS DATE) = DATE '${SHIFTED_DAY}' THEN CAST(round(distance * 1.6) AS INTEGER) ELSE distance END AS distance) FROM (${january})) TO ${sqlString(path.join(data, 'shifted.parquet'))} (FORMAT parquet)`);
  });
});
afterAll(async () => {
  await h?.close();
});

const sluice = (...argv: string[]) => sluiceIn(h, argv);

/** The flights example's checks, written out (smallFlightsSpec leaves the example's own out), and a SQL check. */
const CHECKS: NonNullable<SpecInput['checks']> = {
  daily_rows: { row_count: { trailing_days: 7, within_pct: 30 } },
  distance_miles: { column: 'distance', range: { min: 1, max: 6000 } },
  flight_keys: { unique: ['date', 'origin', 'destination'], severity: 'warn' },
  round_trip: { sql: 'SELECT date, origin, destination FROM checked WHERE origin = destination' },
};

async function rowsOn(file: string, day: string): Promise<number> {
  return withDuckDB(async (c) => Number((await c.runAndReadAll(`SELECT count(*) FROM read_parquet(${sqlString(file)}) WHERE CAST(date AS DATE) = DATE '${day}'`)).getRowsJS()[0][0]));
}

describe('data checks before training', () => {
  it('runs every check in its own step before the train step, and records what it saw in the result and SluiceChecks', async () => {
    const spec = smallFlightsSpec('checks-pass', (s) => {
      s.sources.flights.path = path.join(data, 'halved.parquet');
      s.split = { train: { from: '2001-01-01', to: '2001-01-14' }, validate: { from: '2001-01-15', to: '2001-01-16' } };
      s.checks = CHECKS;
      s.on_failure = { wait_for_operator: false };
    });
    await h.withWorker(async () => {
      const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `checks-pass-${process.pid}` });
      const result = await handle.result();
      expect(result.steps.map((s) => s.name)).toEqual(['load-spec', 'extract', 'features', 'checks', 'train', 'evaluate', 'evaluate-champion', 'register', 'promote']);
      const checks = result.checks && 'checks' in result.checks ? result.checks : undefined;
      expect(checks?.checks.map((c) => [c.name, c.status])).toEqual([
        ['daily_rows', 'passed'],
        ['distance_miles', 'passed'],
        ['flight_keys', 'warned'],
        ['round_trip', 'passed'],
      ]);
      expect(checks?.status).toBe('warned');
      expect(checks?.dayRows?.['2001-01-16']).toBe(await rowsOn(FLIGHTS, '2001-01-16'));
      expect(checks?.checks.find((c) => c.name === 'flight_keys')?.failures[0].observed).toMatch(/^\d+ keys shared by \d+ rows$/);
      expect(result.steps.find((s) => s.name === 'checks')).toMatchObject({ status: 'done', detail: '3 passed, 1 warned' });
      expect(formatTrainResult(result)).toMatch(/^Checks: warned \(3 passed, 1 warned\)\n {2}warn: check flight_keys \(unique on extract\): \d+ keys shared by \d+ rows, expected every key once; first rows: \{"date":"2001-01-\d\d/m);
      expect((await handle.describe()).typedSearchAttributes.get(SluiceChecks)).toBe('warned');
      recordHistory(handle, 'checks-training-warned');
    });
  });

  it('stops a run whose source lost half of one day, naming the check, the day and the counts, and trains nothing', async () => {
    const halved = path.join(data, 'halved.parquet');
    const spec = smallFlightsSpec('checks-halved', (s) => {
      s.sources.flights.path = halved;
      s.checks = CHECKS;
      s.on_failure = { wait_for_operator: false };
    });
    const kept = await rowsOn(halved, SHORT_DAY);
    const before = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((k) => rowsOn(halved, `2001-01-${String(17 - k).padStart(2, '0')}`)));
    const median = [...before].sort((a, b) => a - b)[3];
    await h.withWorker(async () => {
      const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `checks-halved-${process.pid}` });
      const err = await handle.result().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const message = rootMessage(err);
      const off = (((kept - median) / median) * 100).toFixed(1);
      expect(message).toBe(
        'training checks-halved (2001-01-01 .. 2001-01-24): data checks failed (1 of 4), so nothing was trained:\n' +
          `check daily_rows (row_count on extract): ${SHORT_DAY}: ${kept} rows (${off} % against the trailing 7 days' median ${median}), expected ${Math.ceil(median * 0.7)} .. ${Math.floor(median * 1.3)} (within 30 % of the median)`,
      );
      expect((await handle.describe()).typedSearchAttributes.get(SluiceChecks)).toBe('failed');
      const history = await handle.fetchHistory();
      const scheduled = (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes?.activityType?.name ? [e.activityTaskScheduledEventAttributes.activityType.name] : []));
      expect(scheduled).toContain('checkData');
      expect(scheduled).not.toContain('train');
      recordHistory(handle, 'checks-training-failed');
    });
  });
});

describe('a check on a column that does not exist', () => {
  it('is refused when the spec is loaded, with the column it most likely meant, and nothing runs', async () => {
    const spec = smallFlightsSpec('checks-typo', (s) => {
      s.checks = { distance_miles: { column: 'distanse', range: { min: 1, max: 6000 } } };
      s.on_failure = { wait_for_operator: false };
    });
    await h.withWorker(async () => {
      const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `checks-typo-${process.pid}` });
      const err = await handle.result().then(() => undefined, (e: unknown) => e);
      expect(rootMessage(err)).toMatch(
        /^\S+checks-typo-\w+\.yaml: checks\.distance_miles\.column: `distanse` is not a column of the rows extract\.query returns; did you mean `distance`\? \(columns: date, delay, distance, origin, destination; a feature column is checked with on: features\)$/,
      );
      const history = await handle.fetchHistory();
      const scheduled = (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes?.activityType?.name ? [e.activityTaskScheduledEventAttributes.activityType.name] : []));
      expect(scheduled).toEqual(['loadSpec']);
    });
  });
});

describe('checks and per-feature drift at scoring time', () => {
  it('warns on a shifted day with its PSI, refuses it under an error bound while the other days publish, and sluice drift prints the table', async () => {
    const sink = (name: string) => path.join(data, `sink-${name}`);
    const shifted = (name: string, change: (s: SpecInput) => void) =>
      smallFlightsSpec('checks-drift', (s) => {
        s.sources.flights.path = path.join(data, 'shifted.parquet');
        // One day per shard: a refused day is a shard of its own.
        s.inference = { shard_rows: 10_000, slice_rows: 10_000, max_parallel_shards: 2, sink: { type: 'parquet', path: sink(name) } };
        s.checks = { distance_miles: { column: 'distance', range: { min: 1, max: 6000 }, severity: 'warn' } };
        change(s);
      });
    const warn = shifted('warn', (s) => void (s.drift = { features: { log_distance: 0.25 }, severity: 'warn' }));
    const refuse = shifted('error', (s) => {
      s.drift = { features: { log_distance: 0.25 }, severity: 'error' };
      s.on_failure = { wait_for_operator: true, skippable: ['score-shard'] };
    });
    const days = { from: '2001-01-25', to: '2001-01-28' };
    await h.withWorker(async () => {
      await h.client.workflow.execute(trainPipeline, { args: [{ spec: warn }], taskQueue: h.config.taskQueue, workflowId: `checks-drift-train-${process.pid}` });

      const warned = await h.client.workflow.start(batchInference, { args: [{ spec: warn, ...days }], taskQueue: h.config.taskQueue, workflowId: `checks-drift-warn-${process.pid}` });
      const result = await warned.result();
      expect(result.sink.days).toBe(4);
      const drift = result.featureDrift ?? {};
      expect(Object.keys(drift)).toEqual(['2001-01-25', '2001-01-26', SHIFTED_DAY, '2001-01-28']);
      expect(drift[SHIFTED_DAY].log_distance).toBeGreaterThan(0.25);
      for (const day of ['2001-01-25', '2001-01-26', '2001-01-28']) expect(drift[day].log_distance).toBeLessThan(0.05);
      // The day of the week is one value within a day: it has no per-day drift, and is left out.
      expect(Object.keys(drift[SHIFTED_DAY])).not.toContain('day_of_week');
      expect(Object.keys(drift[SHIFTED_DAY])).toContain('weekend');
      expect(drift[SHIFTED_DAY].log_distance).toBeGreaterThan(10 * Math.max(drift['2001-01-25'].log_distance, drift['2001-01-26'].log_distance, drift['2001-01-28'].log_distance));
      const outcome = (name: string) => result.checks?.checks.filter((c) => c.name === name) ?? [];
      expect(outcome('drift_log_distance').map((o) => o.status).sort()).toEqual(['passed', 'passed', 'passed', 'warned']);
      expect(outcome('drift_log_distance').find((o) => o.status === 'warned')?.failures[0]).toEqual({ day: SHIFTED_DAY, observed: `PSI ${drift[SHIFTED_DAY].log_distance.toFixed(3)}`, bound: 'at most 0.25' });
      expect(outcome('distance_miles').find((o) => o.status === 'warned')?.failures[0]).toMatchObject({ day: SHIFTED_DAY, bound: '1 .. 6000' });
      expect(result.checks?.status).toBe('warned');
      expect((await warned.describe()).typedSearchAttributes.get(SluiceChecks)).toBe('warned');
      recordHistory(warned, 'checks-inference-warned');
      const text = formatInferenceResult(result);
      expect(text).toContain(`\n  warn: check drift_log_distance (drift of \`log_distance\` on features): ${SHIFTED_DAY}: PSI ${drift[SHIFTED_DAY].log_distance.toFixed(3)}, expected at most 0.25\n`);
      expect(text).toMatch(/^Feature drift: largest PSI \d+\.\d{3} \(\w+ on 2001-01-2\d\); sluice drift checks-drift shows every feature and day$/m);
      // The scores report has the feature × day heatmap of PSI.
      const report = result.report && 'file' in result.report ? result.report.file : '';
      const chart = fs.readFileSync(path.join(path.dirname(report), 'scores.vl.json'), 'utf8');
      expect(chart).toContain('"type": "rect"');
      expect(chart).toContain(`"feature": "log_distance"`);

      const refused = await h.client.workflow.start(batchInference, { args: [{ spec: refuse, ...days }], taskQueue: h.config.taskQueue, workflowId: `checks-drift-error-${process.pid}` });
      const waiting = await eventually(() => refused.query(inferenceProgressQuery), (p) => (p.awaitingOperator?.length ?? 0) > 0, 'the refused shard to wait for an operator');
      const failed = waiting.awaitingOperator?.[0];
      expect(failed?.errorType).toBe('SluiceDataError');
      expect(failed?.error).toBe(
        `scoring checks-drift ${SHIFTED_DAY}: data checks failed (drift of 1 feature), so nothing of these days is published:\ndrift of \`log_distance\`: ${SHIFTED_DAY}: PSI ${drift[SHIFTED_DAY].log_distance.toFixed(3)}, expected at most 0.25`,
      );
      await eventually(() => refused.describe(), (d) => d.typedSearchAttributes.get(SluiceChecks) === 'failed', 'SluiceChecks=failed while it waits');
      await refused.signal(skipSignal, { actor: 'dana', step: failed?.step, reason: 'distances arrived in km; the upstream fix comes tomorrow' });
      const skipped = await refused.result();
      expect(skipped.skippedDays).toEqual([SHIFTED_DAY]);
      expect(skipped.sink.days).toBe(3);
      // The run's checks stay failed: the skipped day was refused.
      expect(skipped.checks?.status).toBe('failed');
      expect((await refused.describe()).typedSearchAttributes.get(SluiceChecks)).toBe('failed');
      recordHistory(refused, 'checks-inference-refused-skipped');
      expect(fs.readdirSync(sink('error')).filter((d) => d.startsWith('day=')).sort()).toEqual(['day=2001-01-25', 'day=2001-01-26', 'day=2001-01-28']);

      const table = await eventually(() => sluice('drift', 'checks-drift', '--days', '7'), (r) => r.output.includes(SHIFTED_DAY.slice(5)), 'the scoring runs in visibility');
      expect(table.code).toBe(0);
      const lines = table.output.split('\n');
      expect(lines[0]).toMatch(/^feature +01-25 +01-26 +01-27 +01-28$/);
      // Marked large on the shifted day.
      expect(table.output).toMatch(new RegExp(`^log_distance +0\\.0\\d\\d +0\\.0\\d\\d +${drift[SHIFTED_DAY].log_distance.toFixed(3)}! +0\\.0\\d\\d$`, 'm'));
      expect(lines).toHaveLength(2 + Object.keys(drift[SHIFTED_DAY]).length);
    });
  });
});
