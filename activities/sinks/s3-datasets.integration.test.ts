import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sqlString, withDuckDB } from '../sql/duckdb';
import { S3Objects, sharedS3Client } from '../storage/object-store';
import { publishParquetToS3, readDayManifest, s3PublishedDays } from './s3-datasets';
import { insideS3Roots } from '../storage/s3-roots';
import type { PublishRequest } from './sink';

const bucket = () => process.env.SLUICE_TEST_S3_BUCKET as string;

/** A staged Parquet file of `rows` scores from `runId`, and the request to publish it as day 2001-01-25. */
async function staged(runId: string, rows: number): Promise<PublishRequest> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-s3-sink-')), 'data_0.parquet');
  await withDuckDB((c) => c.run(`COPY (SELECT range AS id, range / ${rows} AS score, ${sqlString(runId)} AS run_id FROM range(${rows})) TO ${sqlString(file)} (FORMAT parquet)`));
  return { runId, modelVersion: runId === 'run-a' ? 1 : 2, files: new Map([['2001-01-25', [file]]]), rowsByDay: new Map([['2001-01-25', rows]]), columns: [] };
}

/** Rows of the day as a reader that follows `_sluice.json` sees them, by run. */
async function readThroughManifest(objects: S3Objects): Promise<Record<string, number>> {
  const manifest = await readDayManifest(objects, '2001-01-25');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-s3-read-'));
  const files: string[] = [];
  for (const name of manifest?.files ?? []) {
    const file = path.join(dir, name);
    await objects.download(`day=2001-01-25/${name}`, file);
    files.push(file);
  }
  return withDuckDB(async (c) => {
    const rows = (await c.runAndReadAll(`SELECT run_id, count(*) FROM read_parquet([${files.map(sqlString).join(', ')}]) GROUP BY 1`)).getRowsJS();
    return Object.fromEntries(rows.map(([run, n]) => [String(run), Number(n)]));
  });
}

describe('the S3 Parquet sink', () => {
  const prefix = `sink-${process.pid}`;
  beforeAll(() => {
    process.env.SLUICE_S3_ROOTS = `s3://${bucket()}/${prefix}`;
  });

  it('replaces a day so that a reader following _sluice.json sees one run, never a mix, even when a publish dies halfway', async () => {
    const where = insideS3Roots(`s3://${bucket()}/${prefix}/scores`, 'inference.sink.path', 'spec.yaml');
    const objects = new S3Objects(sharedS3Client(), where);
    expect(await publishParquetToS3(where, await staged('run-a', 1000))).toMatchObject({ days: 1, rows: 1000 });
    expect(await readThroughManifest(objects)).toEqual({ 'run-a': 1000 });

    // Run B dies after uploading its files, before its manifest: readers of the manifest still see run A alone.
    const write = jest.spyOn(S3Objects.prototype, 'writeText').mockRejectedValueOnce(new Error('connection reset'));
    const runB = await staged('run-b', 700);
    await expect(publishParquetToS3(where, runB)).rejects.toThrow('connection reset');
    write.mockRestore();
    expect(await readThroughManifest(objects)).toEqual({ 'run-a': 1000 });
    // …while a reader that lists the folder sees both runs' files: the caveat the README states.
    expect((await objects.list('day=2001-01-25')).filter((o) => o.key.endsWith('.parquet'))).toHaveLength(2);

    // The retried publish completes the day and removes every file its manifest does not list.
    await publishParquetToS3(where, runB);
    expect(await readThroughManifest(objects)).toEqual({ 'run-b': 700 });
    expect((await objects.list('day=2001-01-25')).map((o) => o.key.replace(/-[0-9a-f]{8}\.parquet$/, ''))).toEqual(['day=2001-01-25/_sluice.json', 'day=2001-01-25/part-0']);
    expect(await s3PublishedDays(where)).toEqual([{ day: '2001-01-25', modelVersion: 2 }]);
    // A retried attempt of the same run does not publish the day again.
    expect(await publishParquetToS3(where, runB)).toMatchObject({ rows: 0 });
  });

  it('refuses an s3:// path outside SLUICE_S3_ROOTS', () => {
    expect(() => insideS3Roots(`s3://${bucket()}/elsewhere`, 'inference.sink.path', 'spec.yaml')).toThrow(
      `spec.yaml: inference.sink.path: s3://${bucket()}/elsewhere is outside the object-storage roots (s3://${bucket()}/${prefix}); set SLUICE_S3_ROOTS on the workers to allow it`,
    );
    expect(() => insideS3Roots(`s3://${bucket()}/${prefix}-other/x`, 'inference.sink.path', 'spec.yaml')).toThrow('outside the object-storage roots');
  });
});
