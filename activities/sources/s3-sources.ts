import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dataError } from '../../contracts/errors';
import { S3Objects, sharedS3Client, type S3Location } from '../storage/object-store';

/**
 * Where `s3://` sources are copied before DuckDB reads them, `SLUICE_SOURCE_CACHE` (default: a folder in
 * the system temp folder). DuckDB's httpfs extension cannot be installed where extensions are not
 * downloadable, so objects move through this cache: one GET per object version per worker, then local
 * reads (filters and column pruning apply to the copy, not to the transfer).
 */
export function sourceCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.SLUICE_SOURCE_CACHE || path.join(os.tmpdir(), 'sluice-s3-sources'));
}

/**
 * The local copy of an S3 source object, downloaded when this worker has no copy of its current version
 * (its entity tag): `<cache>/<hash of the address>/<etag>/<file name>`. Older versions are removed.
 */
export async function localCopyOf(where: S3Location, field: string, specFile: string): Promise<string> {
  const key = where.prefix;
  const slash = key.lastIndexOf('/');
  const objects = new S3Objects(sharedS3Client(), { bucket: where.bucket, prefix: key.slice(0, Math.max(0, slash)) });
  const name = key.slice(slash + 1);
  const address = `s3://${where.bucket}/${key}`;
  const found = await objects.head(name);
  if (!found) throw dataError(`${specFile}: ${field}: object not found: ${address}`);
  const folder = path.join(sourceCacheDir(), createHash('sha256').update(address).digest('hex').slice(0, 16));
  const file = path.join(folder, found.etag.replace(/[^A-Za-z0-9-]/g, '_') || 'current', name);
  if (fs.existsSync(file) && fs.statSync(file).size === found.bytes) return file;
  if (!(await objects.download(name, file))) throw dataError(`${specFile}: ${field}: object not found: ${address}`);
  for (const old of fs.readdirSync(folder)) if (old !== path.basename(path.dirname(file))) fs.rmSync(path.join(folder, old), { recursive: true, force: true });
  return file;
}
