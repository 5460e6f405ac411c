import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { S3Objects, sharedS3Client } from '../storage/object-store';
import { localCopyOf } from './s3-sources';

describe('S3 sources', () => {
  const bucket = () => process.env.SLUICE_TEST_S3_BUCKET as string;
  const prefix = `sources-${process.pid}`;
  beforeAll(() => {
    process.env.SLUICE_SOURCE_CACHE = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-source-cache-'));
  });

  it('reads through a local copy of the current version, fetched again only when the object changes', async () => {
    const objects = new S3Objects(sharedS3Client(), { bucket: bucket(), prefix });
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-src-')), 'rows.csv');
    fs.writeFileSync(file, 'a,b\n1,2\n');
    await objects.upload(file, 'rows.csv');
    const where = { bucket: bucket(), prefix: `${prefix}/rows.csv` };
    const first = await localCopyOf(where, 'sources.rows.path', 'spec.yaml');
    expect(first.startsWith(process.env.SLUICE_SOURCE_CACHE as string)).toBe(true);
    expect(fs.readFileSync(first, 'utf8')).toBe('a,b\n1,2\n');
    const mtime = fs.statSync(first).mtimeMs;
    expect(await localCopyOf(where, 'sources.rows.path', 'spec.yaml')).toBe(first);
    expect(fs.statSync(first).mtimeMs).toBe(mtime); // not downloaded again

    fs.writeFileSync(file, 'a,b\n3,4\n5,6\n');
    await objects.upload(file, 'rows.csv');
    const second = await localCopyOf(where, 'sources.rows.path', 'spec.yaml');
    expect(second).not.toBe(first);
    expect(fs.readFileSync(second, 'utf8')).toBe('a,b\n3,4\n5,6\n');
    expect(fs.existsSync(first)).toBe(false); // the old version's copy is gone
  });

  it('names a missing object precisely', async () => {
    await expect(localCopyOf({ bucket: bucket(), prefix: `${prefix}/missing.parquet` }, 'sources.flights.path', 'spec.yaml')).rejects.toThrow(
      `spec.yaml: sources.flights.path: object not found: s3://${bucket()}/${prefix}/missing.parquet`,
    );
  });
});
