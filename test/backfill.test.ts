import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sqlString, withDuckDB } from '../activities/sql/duckdb';
import { queryRegistry } from '../activities/registry/registry';
import { backfill } from '../workflows/backfill';
import { rollbackModel } from '../workflows/rollback';
import { trainPipeline } from '../workflows/train-pipeline';
import { smallFlightsSpec, type SpecInput } from './support/specs';
import { harness, type TestHarness } from './support/temporal';

const DATA = path.resolve(__dirname, '..', 'node_modules', 'vega-datasets', 'data');
let h: TestHarness;
let work: string;
let counter = 0;

beforeAll(async () => {
  h = await harness('backfill');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-backfill-'));
});
afterAll(async () => {
  await h?.close();
});

function spec(name: string, sink: string, change: (s: SpecInput) => void = () => undefined): string {
  return smallFlightsSpec(name, (s) => {
    s.inference = { shard_rows: 40_000, slice_rows: 40_000, max_parallel_shards: 2, sink: { type: 'parquet', path: sink } };
    s.on_failure = { wait_for_operator: false };
    change(s);
  });
}

const id = (prefix: string) => `${prefix}-${process.pid}-${++counter}`;

/** model_version and run_id per day in a Parquet sink. */
async function lineage(sink: string): Promise<Record<string, { version: number; run: string }>> {
  return withDuckDB(async (c) => {
    const rows = (
      await c.runAndReadAll(`SELECT strftime(day, '%Y-%m-%d'), min(model_version), min(run_id) FROM read_parquet(${sqlString(path.join(sink, '*', '*.parquet'))}, hive_partitioning = true) GROUP BY 1 ORDER BY 1`)
    ).getRowsJS();
    return Object.fromEntries(rows.map(([d, v, r]) => [String(d), { version: Number(v), run: String(r) }]));
  });
}

describe('backfill and rollback', () => {
  it('scores each day as a child workflow, skips published days, reprocesses on request, and continues as new', async () => {
    const sink = path.join(work, 'range');
    const file = spec('bf-range', sink);
    await h.withWorker(async () => {
      await h.client.workflow.execute(trainPipeline, { args: [{ spec: file }], taskQueue: h.config.taskQueue, workflowId: id('bf-train') });
      const first = await h.client.workflow.start(backfill, { args: [{ spec: file, from: '2001-01-22', to: '2001-01-25', daysPerRun: 2 }], taskQueue: h.config.taskQueue, workflowId: id('bf') });
      const result = await first.result();
      expect(result.published).toEqual(['2001-01-22', '2001-01-23', '2001-01-24', '2001-01-25']);
      expect(result.failed).toEqual([]);
      expect((await first.describe()).runId).not.toBe(first.firstExecutionRunId); // continued as new after 2 days
      const before = await lineage(sink);

      const again = await h.client.workflow.execute(backfill, { args: [{ spec: file, from: '2001-01-21', to: '2001-01-25' }], taskQueue: h.config.taskQueue, workflowId: id('bf') });
      expect(again.alreadyPublished).toEqual(['2001-01-22', '2001-01-23', '2001-01-24', '2001-01-25']);
      expect(again.published).toEqual(['2001-01-21']);
      expect((await lineage(sink))['2001-01-22']).toEqual(before['2001-01-22']);

      const reprocessed = await h.client.workflow.execute(backfill, { args: [{ spec: file, from: '2001-01-24', to: '2001-01-25', reprocess: true }], taskQueue: h.config.taskQueue, workflowId: id('bf') });
      expect(reprocessed.published).toEqual(['2001-01-24', '2001-01-25']);
      const after = await lineage(sink);
      expect(after['2001-01-24'].run).not.toBe(before['2001-01-24'].run);
      expect(after['2001-01-22'].run).toBe(before['2001-01-22'].run);
    });
  });

  it('publishes the good days and reports the failed ones when some partitions fail', async () => {
    const flights = path.join(work, 'flights.parquet');
    await withDuckDB((c) =>
      c.run(
        `COPY (SELECT * REPLACE (CASE WHEN CAST(date AS DATE) = DATE '2001-01-26' THEN NULL ELSE distance END AS distance) FROM read_parquet(${sqlString(path.join(DATA, 'flights-3m.parquet'))}) WHERE date < DATE '2001-01-28') TO ${sqlString(flights)} (FORMAT parquet)`,
      ),
    );
    const sink = path.join(work, 'partial');
    const file = spec('bf-partial', sink, (s) => {
      s.sources.flights.path = flights;
      // The spec would have a failed run wait for an operator: a backfill's child fails instead, so no day blocks the others.
      s.on_failure = { wait_for_operator: true };
    });
    const result = await h.withWorker(async () => {
      await h.client.workflow.execute(trainPipeline, { args: [{ spec: file }], taskQueue: h.config.taskQueue, workflowId: id('bf-train') });
      return h.client.workflow.execute(backfill, { args: [{ spec: file, from: '2001-01-25', to: '2001-01-27' }], taskQueue: h.config.taskQueue, workflowId: id('bf') });
    });
    expect(result.published).toEqual(['2001-01-25', '2001-01-27']);
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0].day).toBe('2001-01-26');
    expect(result.failed[0].error).toContain('have NULL, NaN or infinite features');
    expect(Object.keys(await lineage(sink))).toEqual(['2001-01-25', '2001-01-27']);
  });

  it('rolls the champion back with an audit entry and rescores the days the replaced version scored', async () => {
    const sink = path.join(work, 'rollback');
    const train = (l2: number) =>
      spec('bf-rollback', sink, (s) => {
        if (s.trainer.type === 'logistic_regression') s.trainer.l2 = l2;
        s.promotion = { mode: 'auto', tolerance: 1 };
      });
    const { result, registry } = await h.withWorker(async () => {
      await h.client.workflow.execute(trainPipeline, { args: [{ spec: train(0.0001) }], taskQueue: h.config.taskQueue, workflowId: id('bf-train') });
      const v2 = await h.client.workflow.execute(trainPipeline, { args: [{ spec: train(0.5) }], taskQueue: h.config.taskQueue, workflowId: id('bf-train') });
      expect(v2).toMatchObject({ modelVersion: 2, promoted: true });
      await h.client.workflow.execute(backfill, { args: [{ spec: train(0.5), from: '2001-01-22', to: '2001-01-23' }], taskQueue: h.config.taskQueue, workflowId: id('bf') });
      expect(Object.values(await lineage(sink)).map((l) => l.version)).toEqual([2, 2]);
      const rolled = await h.client.workflow.execute(rollbackModel, {
        args: [{ spec: train(0.5), toVersion: 1, actor: 'dana', reason: 'v2 over-regularized', reprocess: true }],
        taskQueue: h.config.taskQueue,
        workflowId: id('rollback'),
      });
      return { result: rolled, registry: await queryRegistry(h.client, 'bf-rollback') };
    });
    expect(result).toMatchObject({ replaced: 2, champion: 1, audit: { alias: 'champion', version: 1, previous: 2, actor: 'dana', reason: 'rollback: v2 over-regularized' } });
    expect(result.reprocessed?.published).toEqual(['2001-01-22', '2001-01-23']);
    expect(registry?.aliases.champion).toBe(1);
    expect(Object.values(await lineage(sink)).map((l) => l.version)).toEqual([1, 1]);
  });
});
