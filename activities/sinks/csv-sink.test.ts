import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { flightsSpec, writeSpec } from '../../test/support/specs';
import { stagedScores } from '../../test/support/staged-scores';
import { loadSpecFile } from '../spec/loader';
import { sinkTarget } from './sinks';

/** The CSV sink: a day folder per day with one CSV file, replaced whole on a rerun, listed by publishedDays. */
const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-csv-sink-')));

const staged = (runId: string, days: string[], rows: number) => stagedScores(dir, runId, days, rows, runId === 'run-a' ? 1 : 2);

it('publishes one CSV file per day with a header, replaces a reprocessed day, and lists the days by model version', async () => {
  const root = path.join(dir, 'scores');
  const s = flightsSpec();
  s.name = 'csv-sink';
  s.inference = { shard_rows: 1000, slice_rows: 1000, max_parallel_shards: 1, sink: { type: 'csv', path: root } };
  const { sink, target } = sinkTarget(loadSpecFile(writeSpec('csv-sink', s)));
  await sink.publish(target, await staged('run-a', ['2001-01-25', '2001-01-26'], 10));
  await sink.publish(target, await staged('run-b', ['2001-01-26'], 4));
  const lines = fs.readFileSync(path.join(root, 'day=2001-01-26', 'part-0.csv'), 'utf8').trim().split('\n');
  expect(lines[0]).toBe('id,score,run_id');
  expect(lines.slice(1).every((l) => l.endsWith(',run-b'))).toBe(true);
  expect(lines).toHaveLength(1 + 4);
  expect(fs.readFileSync(path.join(root, 'day=2001-01-25', 'part-0.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + 10);
  expect(await sink.publishedDays(target, {})).toEqual(['2001-01-25', '2001-01-26']);
  expect(await sink.publishedDays(target, { modelVersion: 2 })).toEqual(['2001-01-26']);
});
