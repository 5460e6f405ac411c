import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { run } from '../scripts/sluice-cli';
import { rootMessage } from '../contracts/root-cause';
import { backfill } from '../workflows/backfill';
import { batchInference } from '../workflows/batch-inference';
import { sinkHistory } from '../workflows/sink-history';
import { trainPipeline } from '../workflows/train-pipeline';
import { pythonHarness, type PythonHarness } from './support/python-harness';
import { recordHistory } from './support/record-history';
import { smallFlightsSpec } from './support/specs';
import { TEST_ARTIFACTS } from './support/temporal';

/**
 * The iceberg sink end to end on the dev server, published by the Python worker: a batch-inference run, a backfill
 * that skips the days the table holds, and a reprocessed day, each one snapshot; the table read back with pyiceberg,
 * and `sluice sink history` listing the snapshots with their runs and models.
 */
const ROOT = path.resolve(__dirname, '..');
const PYTHON = path.join(ROOT, '.tools', 'venv', 'bin', 'python');
let setup: PythonHarness;
const table = `iceberg_test_${process.pid}`;

beforeAll(async () => {
  setup = await pythonHarness('iceberg');
});
afterAll(() => setup?.close());

interface ReadBack {
  rowsByDay: Record<string, number>;
  runsByDay: Record<string, string[]>;
  partitionFields: string[];
  snapshots: Array<{ operation: string; runId: string; modelVersion: string; added: number }>;
}

function readBack(): ReadBack {
  const read = spawnSync(PYTHON, [path.join(__dirname, 'support', 'iceberg_table.py'), TEST_ARTIFACTS, `sluice.${table}`], { encoding: 'utf8' });
  expect(read.stderr).toBe('');
  return JSON.parse(read.stdout) as ReadBack;
}

describe('the iceberg sink', () => {
  it('publishes each run as one snapshot replacing its days, skips what a backfill finds there, replaces a reprocessed day, and lists its history', async () => {
    const { h, queue } = setup;
    const spec = smallFlightsSpec('iceberg-scores', (s) => {
      s.execution = { python_task_queue: queue };
      s.on_failure = { wait_for_operator: false };
      s.inference = { shard_rows: 30_000, slice_rows: 30_000, max_parallel_shards: 2, sink: { type: 'iceberg', path: path.join(TEST_ARTIFACTS, '..', `iceberg-${process.pid}`, 'scores'), table } };
    });
    const lines: string[] = [];
    const { trained, scored, filled, reprocessed } = await h.withWorker(async () => {
      const start = <T>(workflow: T, id: string) => ({ taskQueue: h.config.taskQueue, workflowId: `${id}-${process.pid}`, workflow });
      const trained = await h.client.workflow.execute(trainPipeline, { ...start(trainPipeline, 'iceberg-train'), args: [{ spec }] });
      const scoring = await h.client.workflow.start(batchInference, { ...start(batchInference, 'iceberg-infer'), args: [{ spec, from: '2001-01-22', to: '2001-01-24' }] });
      const scored = await scoring.result();
      recordHistory(scoring, 'iceberg-inference');
      const filled = await h.client.workflow.execute(backfill, { ...start(backfill, 'iceberg-backfill'), args: [{ spec, from: '2001-01-23', to: '2001-01-25' }] });
      const reprocessed = await h.client.workflow.execute(backfill, { ...start(backfill, 'iceberg-reprocess'), args: [{ spec, from: '2001-01-24', to: '2001-01-24', reprocess: true }] });
      const history = await h.client.workflow.start(sinkHistory, { ...start(sinkHistory, 'iceberg-history'), args: [{ spec }] });
      await history.result();
      recordHistory(history, 'sink-history');
      expect(await run(['sink', 'history', spec], h.client, (line) => lines.push(line), h.config)).toBe(0);
      return { trained, scored, filled, reprocessed };
    });
    expect(trained.promoted).toBe(true);
    expect(scored.sink.type).toBe('iceberg');
    expect(scored.shards).toBeGreaterThan(1);
    expect(scored.sink.location).toMatch(new RegExp(`^sluice\\.${table} at file://.*/iceberg-\\d+/scores$`));
    // The backfill found 23 and 24 in the table and scored 25 only; the reprocess replaced 24.
    expect(filled.alreadyPublished).toEqual(['2001-01-23', '2001-01-24']);
    expect(filled.published).toEqual(['2001-01-25']);
    expect(reprocessed.published).toEqual(['2001-01-24']);

    const table_ = readBack();
    console.log(`iceberg table after a run, a backfill and a reprocess: ${JSON.stringify(table_.rowsByDay)}; snapshots ${JSON.stringify(table_.snapshots.map((s) => [s.operation, s.added]))}`);
    expect(table_.partitionFields).toEqual(['day']);
    expect(Object.keys(table_.rowsByDay)).toEqual(['2001-01-22', '2001-01-23', '2001-01-24', '2001-01-25']);
    expect(Object.values(table_.rowsByDay).slice(0, 3).reduce((a, b) => a + b, 0)).toBe(scored.rows);
    expect(table_.snapshots.map((s) => [s.operation, s.modelVersion])).toEqual([
      ['append', String(trained.modelVersion)], // the first: nothing to replace
      ['overwrite', String(trained.modelVersion)],
      ['overwrite', String(trained.modelVersion)],
    ]);
    // Day 24 holds the reprocess's rows only; 22 and 23 the first run's.
    expect(table_.runsByDay['2001-01-24']).toEqual([table_.snapshots[2].runId]);
    expect(table_.runsByDay['2001-01-22']).toEqual([table_.snapshots[0].runId]);
    expect(table_.snapshots[2].added).toBe(table_.rowsByDay['2001-01-24']);

    const shown = lines.join('\n');
    console.log(shown);
    expect(shown).toMatch(new RegExp(`^sluice\\.${table} at file://\\S+: 3 snapshots \\(\\* current\\)`));
    expect(shown.split('\n').filter((l) => / v\d+ /.test(l))).toHaveLength(3);

    // A sink that keeps no snapshots has no history to show.
    const parquet = smallFlightsSpec('iceberg-parquet', (s) => void (s.inference = { sink: { type: 'parquet', path: path.join(TEST_ARTIFACTS, '..', `iceberg-${process.pid}`, 'parquet') } }));
    const refused = await h.withWorker(() => h.client.workflow.execute(sinkHistory, { taskQueue: h.config.taskQueue, workflowId: `iceberg-parquet-${process.pid}`, args: [{ spec: parquet }] }).then(() => 'listed', (err: unknown) => rootMessage(err)));
    expect(refused).toMatch(/: inference\.sink: the parquet sink keeps no snapshots; sluice sink history reads an iceberg table$/);
  });
});
