import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { loadArrowTable } from '../activities/sources/arrow-files';
import { withDuckDB } from '../activities/sql/duckdb';
import { batchInference } from '../workflows/batch-inference';
import { trainPipeline } from '../workflows/train-pipeline';
import { smallFlightsSpec } from './support/specs';
import { harness, type TestHarness } from './support/temporal';
import { binaryMetrics } from '../contracts/metric-values';

/**
 * Arrow IPC files as a source format and a sink format, end to end: a pipeline trained and scored on an
 * Arrow file that pyarrow wrote, publishing Arrow files that pyarrow and apache-arrow read back.
 */
const ROOT = path.resolve(__dirname, '..');
const PYTHON = path.join(ROOT, '.tools', 'venv', 'bin', 'python');
const DATA = path.join(ROOT, 'node_modules', 'vega-datasets', 'data');
const WORK = path.join(ROOT, '.sluice', 'scratch', `arrow-${process.pid}`); // inside the project: a data root
let h: TestHarness;

/** Runs Python (the project's venv, with pyarrow and duckdb) and returns its last line as JSON. */
function python<T>(code: string): T {
  const run = spawnSync(PYTHON, ['-c', code], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout.trim().split('\n').pop() as string) as T;
}

beforeAll(async () => {
  h = await harness('arrow');
  fs.mkdirSync(WORK, { recursive: true });
});
afterAll(async () => {
  await h?.close();
  fs.rmSync(WORK, { recursive: true, force: true });
});

describe('Arrow IPC files', () => {
  it("vega-datasets' flights-200k.arrow loads as a source table, as pyarrow reads it", async () => {
    const ours = await withDuckDB(async (c) => {
      await loadArrowTable(c, 'flights200k', path.join(DATA, 'flights-200k.arrow'), 'sources.flights200k.path');
      const described = (await c.runAndReadAll('DESCRIBE flights200k')).getRowsJS().map(([name, type]) => `${name} ${type}`);
      const [rows, delay, time] = (await c.runAndReadAll('SELECT count(*), sum(delay), sum(time) FROM flights200k')).getRowsJS()[0].map(Number);
      return { described, rows, delay, time };
    });
    const theirs = python<{ rows: number; delay: number; time: number }>(
      `import json, pyarrow.ipc as ipc, pyarrow.compute as pc; t = ipc.open_file('${path.join(DATA, 'flights-200k.arrow')}').read_all(); print(json.dumps({'rows': t.num_rows, 'delay': pc.sum(t['delay']).as_py(), 'time': pc.sum(t['time']).as_py()}))`,
    );
    expect(ours.described).toEqual(['delay BIGINT', 'distance BIGINT', 'time DOUBLE']);
    expect(ours.rows).toBe(200_000);
    expect(ours.delay).toBe(theirs.delay);
    expect(ours.time).toBeCloseTo(theirs.time, 0);
  });

  it('a pipeline trains and scores on an Arrow source and publishes Arrow files that pyarrow and apache-arrow read', async () => {
    const source = path.join(WORK, 'flights-january.arrow');
    const sink = path.join(WORK, 'scores');
    python(
      `import json, duckdb, pyarrow.ipc as ipc
t = duckdb.sql("SELECT date, delay, distance, origin, destination FROM read_parquet('${path.join(DATA, 'flights-3m.parquet')}') WHERE date < DATE '2001-02-01'").to_arrow_table()
with ipc.new_file('${source}', t.schema) as w: w.write_table(t)
print(json.dumps(t.num_rows))`,
    );
    const spec = smallFlightsSpec('arrow', (s) => {
      s.sources.flights.path = source;
      s.inference = { shard_rows: 50_000, slice_rows: 50_000, max_parallel_shards: 2, sink: { type: 'arrow', path: sink } };
    });
    const { trained, scored } = await h.withWorker(async () => ({
      trained: await h.client.workflow.execute(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `arrow-train-${process.pid}` }),
      scored: await h.client.workflow.execute(batchInference, { args: [{ spec, from: '2001-01-25', to: '2001-01-27' }], taskQueue: h.config.taskQueue, workflowId: `arrow-infer-${process.pid}` }),
    }));
    expect(trained.promoted).toBe(true);
    expect(binaryMetrics(trained.metrics).auc).toBeGreaterThan(0.6);
    expect(fs.readdirSync(sink).sort()).toEqual(['day=2001-01-25', 'day=2001-01-26', 'day=2001-01-27']);
    let rows = 0;
    for (const day of fs.readdirSync(sink)) {
      const table = tableFromIPC(fs.readFileSync(path.join(sink, day, 'part-0.arrow')));
      expect(table.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(['date:Timestamp<MILLISECOND>', 'origin:Utf8', 'destination:Utf8', 'score:Float32', 'model_version:Int32', 'run_id:Utf8']);
      const first = table.get(0)?.toJSON() as { date: number; score: number; model_version: number };
      expect(new Date(first.date).toISOString().slice(0, 10)).toBe(day.slice('day='.length));
      expect(first.score).toBeGreaterThan(0);
      expect(first.score).toBeLessThan(1);
      expect(first.model_version).toBe(scored.modelVersion);
      rows += table.numRows;
    }
    expect(rows).toBe(scored.rows);
    // An independent reader agrees on the rows and the scores.
    const theirs = python<{ rows: number; mean: number }>(
      `import json, glob, pyarrow as pa, pyarrow.ipc as ipc, pyarrow.compute as pc
t = pa.concat_tables([ipc.open_file(f).read_all() for f in sorted(glob.glob('${sink}/day=*/part-0.arrow'))])
print(json.dumps({'rows': t.num_rows, 'mean': pc.mean(t['score']).as_py()}))`,
    );
    expect(theirs.rows).toBe(scored.rows);
    expect(theirs.mean).toBeGreaterThan(0.05);
  });
});
