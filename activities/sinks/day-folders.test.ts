import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { flightsSpec, writeSpec } from '../../test/support/specs';
import { stagedScores } from '../../test/support/staged-scores';
import { loadSpecFile } from '../spec/loader';
import { sqlString, withDuckDB } from '../sql/duckdb';
import { sinks, sinkTarget } from './sinks';

/** Day-folder sinks publish each day whole: a reader's glob over the sink never sees a half-written or replaced day. */
const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-day-folders-')));

const staged = (runId: string, days: string[], rows: number) => stagedScores(dir, runId, days, rows);

/** Rows per (day folder, run) a reader globbing the sink sees. */
async function globbed(root: string, pattern: string): Promise<Record<string, number>> {
  return withDuckDB(async (c) => {
    const found = (await c.runAndReadAll(`SELECT regexp_extract(filename, '([^/]+)/[^/]+$', 1) AS folder, run_id, count(*) FROM read_parquet(${sqlString(path.join(root, pattern))}, filename = true) GROUP BY ALL ORDER BY ALL`)).getRowsJS();
    return Object.fromEntries(found.map(([folder, run, n]) => [`${folder} ${run}`, Number(n)]));
  });
}

function target(name: string, sink: Record<string, unknown>) {
  const s = flightsSpec();
  s.name = name;
  s.inference = { shard_rows: 1000, slice_rows: 1000, max_parallel_shards: 1, sink: sink as { type: string } };
  return sinkTarget(loadSpecFile(writeSpec(name, s)));
}

describe('day-folder sinks', () => {
  it('a publish that dies midway leaves whole days only where readers look, and a rerun replaces them', async () => {
    const root = path.join(dir, 'scores');
    const { sink, target: where } = target('day-folders', { type: 'parquet', path: root });
    await sink.publish(where, await staged('run-a', ['2001-01-25', '2001-01-26'], 100));
    const dying = await staged('run-b', ['2001-01-25', '2001-01-26', '2001-01-27'], 40);
    dying.files.set('2001-01-26', [...(dying.files.get('2001-01-26') ?? []), path.join(dir, 'vanished.parquet')]); // its second file is gone: the copy fails
    await expect(sink.publish(where, dying)).rejects.toThrow(/ENOENT/);
    // Day 25 is run b's, whole; day 26 is still run a's, whole; day 27 never appeared. Nothing else, under any glob.
    const whole = { 'day=2001-01-25 run-b': 40, 'day=2001-01-26 run-a': 100 };
    expect(await globbed(root, '*/*.parquet')).toEqual(whole);
    expect(await globbed(root, '**/*.parquet')).toEqual(whole);
    expect(fs.readdirSync(root).sort()).toEqual(['day=2001-01-25', 'day=2001-01-26']);
    // The half-assembled day sits beside the dataset, not in it.
    expect(fs.readdirSync(path.join(dir, '.sluice-staging', 'scores'))).toEqual(['incoming-run-b-2001-01-26']);
    await sink.publish(where, await staged('run-c', ['2001-01-26', '2001-01-27'], 30));
    expect(await globbed(root, '*/*.parquet')).toEqual({ 'day=2001-01-25 run-b': 40, 'day=2001-01-26 run-c': 30, 'day=2001-01-27 run-c': 30 });
    expect(await sink.publishedDays(where, {})).toEqual(['2001-01-25', '2001-01-26', '2001-01-27']);
  });

  it('a sink that cannot write to object storage refuses an s3:// path, naming the sinks that can', () => {
    let err: unknown;
    try {
      target('arrow-s3', { type: 'arrow', path: 's3://bucket/scores' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).message).toMatch(
      /inference\.sink\.path: the arrow sink writes local files and cannot write to object storage \(s3:\/\/bucket\/scores\); give it a folder inside the data roots, or use a sink that writes to S3 \(parquet\)$/,
    );
    expect(sinks().filter((s) => s.objectStorage).map((s) => s.type)).toEqual(['parquet']);
  });
});
