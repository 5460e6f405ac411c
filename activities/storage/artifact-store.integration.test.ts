import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArtifactStore } from './artifact-store';
import { parseS3Uri, S3Objects, sharedS3Client } from './object-store';

/** The test run's S3 server (test/support/global-setup.ts), a fresh prefix per test. */
let counter = 0;
function remote(): S3Objects {
  const bucket = process.env.SLUICE_TEST_S3_BUCKET;
  if (!bucket) throw new Error('SLUICE_TEST_S3_BUCKET is not set: the global setup starts the S3 server');
  return new S3Objects(sharedS3Client(), { bucket, prefix: `artifact-store-${process.pid}-${++counter}` });
}

const cacheDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-cache-'));

/** Builds a two-file output: data.bin of `bytes` bytes, and a note. */
async function build(store: ArtifactStore, fingerprint: string, bytes = 1024): Promise<{ uri: string; built: boolean }> {
  const output = await store.reuseOrBuild('features', fingerprint, async (staging) => {
    fs.writeFileSync(staging.file('data.bin'), Buffer.alloc(bytes, fingerprint.charCodeAt(0)));
    fs.writeFileSync(staging.file('note.txt'), `built ${fingerprint}`);
    return { uri: staging.uriOf('data.bin') };
  });
  return { uri: output.value.uri, built: !output.reused };
}

describe('the S3 artifact store', () => {
  it('lets a worker with another cache reuse and read what one worker published', async () => {
    const objects = remote();
    const a = new ArtifactStore(cacheDir(), objects);
    const b = new ArtifactStore(cacheDir(), objects);
    const first = await build(a, 'f1', 3 * 2 ** 20);
    expect(first.built).toBe(true);
    expect((await objects.list('features/f1')).map((o) => o.key).sort()).toEqual(['features/f1/_manifest.json', 'features/f1/data.bin', 'features/f1/note.txt']);

    const second = await build(b, 'f1');
    expect(second).toEqual({ uri: first.uri, built: false });
    expect(fs.existsSync(b.pathOf(first.uri))).toBe(false); // files come when read, not with the manifest
    const file = await b.fetch(first.uri);
    expect(file.startsWith(b.root)).toBe(true);
    expect(fs.readFileSync(file).equals(fs.readFileSync(a.pathOf(first.uri)))).toBe(true);
    await expect(b.fetch('artifact:features/f1/missing.bin')).rejects.toThrow(`artifact artifact:features/f1/missing.bin is not in the artifact store at ${objects.location}`);
  });

  it('never shows a half-published output: files go first, the manifest last', async () => {
    const objects = remote();
    // The real store, failing on its second upload (a worker that dies while publishing).
    let uploads = 0;
    const failing = Object.create(objects) as S3Objects;
    failing.upload = async (file, key) => {
      if (++uploads === 2) throw new Error('connection reset');
      return objects.upload(file, key);
    };
    await expect(build(new ArtifactStore(cacheDir(), failing), 'f2')).rejects.toThrow('connection reset');
    expect((await objects.list('features/f2')).map((o) => o.key)).not.toContain('features/f2/_manifest.json');
    // Another worker does not take the half-published folder for an output: it builds it again.
    expect((await build(new ArtifactStore(cacheDir(), objects), 'f2')).built).toBe(true);
    expect((await objects.list('features/f2')).map((o) => o.key)).toContain('features/f2/_manifest.json');
  });

  it('replaces a pushed folder whole, markers last, and removes it', async () => {
    const objects = remote();
    const store = new ArtifactStore(cacheDir(), objects);
    const dir = store.pathOf('artifact:inference/run-1/shard-0/slice-0');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'a.parquet'), 'a');
    fs.writeFileSync(path.join(dir, 'b.parquet'), 'b');
    await store.push('artifact:inference/run-1/shard-0/slice-0');
    fs.rmSync(path.join(dir, 'b.parquet'));
    fs.writeFileSync(path.join(dir, '_SLICE.json'), '{"rows":1}');
    await store.push('artifact:inference/run-1/shard-0/slice-0');
    expect((await objects.list('inference/run-1')).map((o) => o.key).sort()).toEqual(['inference/run-1/shard-0/slice-0/_SLICE.json', 'inference/run-1/shard-0/slice-0/a.parquet']);

    const other = new ArtifactStore(cacheDir(), objects);
    const fetched = await other.fetchFolder('artifact:inference/run-1');
    expect(fs.readdirSync(path.join(fetched, 'shard-0', 'slice-0')).sort()).toEqual(['_SLICE.json', 'a.parquet']);
    await other.remove('artifact:inference/run-1');
    expect(await objects.list('inference/run-1')).toEqual([]);
    expect(fs.existsSync(fetched)).toBe(false);
  });

  it('keeps its local cache under its limit, dropping the least recently used entries, which come back when read', async () => {
    const objects = remote();
    const store = new ArtifactStore(cacheDir(), objects, { bytes: 2.5 * 2 ** 20, inUseMs: 0 });
    const old = await build(store, 'e1', 2 ** 20);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await build(store, 'e2', 2 ** 20);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fs.existsSync(store.pathOf(old.uri))).toBe(true);
    await build(store, 'e3', 2 ** 20);
    expect(fs.existsSync(store.pathOf(old.uri))).toBe(false);
    expect(fs.existsSync(store.pathOf('artifact:features/e3/data.bin'))).toBe(true);
    expect(fs.readFileSync(await store.fetch(old.uri)).length).toBe(2 ** 20);
  });

  it('refuses artifact URIs that leave the store and addresses that are not S3 locations', async () => {
    const store = new ArtifactStore(cacheDir(), remote());
    await expect(store.fetch('artifact:../outside.txt')).rejects.toThrow('artifact URI escapes the artifact root');
    expect(() => parseS3Uri('s3://Bad_Bucket/x', 'SLUICE_ARTIFACTS')).toThrow('is not an s3://bucket/prefix address');
    expect(() => parseS3Uri('s3://bucket/a/../b', 'SLUICE_ARTIFACTS')).toThrow('has a "." or ".." segment');
    expect(parseS3Uri('s3://bucket/a/b/', 'x')).toEqual({ bucket: 'bucket', prefix: 'a/b' });
  });
});

describe('S3 credentials', () => {
  it('are checked by the server, and a refusal names the object but never the secret', async () => {
    const { S3Client } = await import('@aws-sdk/client-s3');
    const wrong = new S3Client({ region: 'us-east-1', endpoint: process.env.AWS_ENDPOINT_URL, forcePathStyle: true, credentials: { accessKeyId: 'SLUICETESTACCESSKEY', secretAccessKey: 'not-the-secret-key' } });
    const objects = new S3Objects(wrong, { bucket: process.env.SLUICE_TEST_S3_BUCKET as string, prefix: 'credentials' });
    const file = path.join(cacheDir(), 'x.txt');
    fs.writeFileSync(file, 'x');
    const error = await objects.upload(file, 'x.txt').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/^cannot write s3:\/\/sluice-test\/credentials\/x\.txt \(SignatureDoesNotMatch: /);
    expect(error?.message).not.toContain('not-the-secret-key');
    wrong.destroy();
  });
});
