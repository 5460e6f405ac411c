import { specError } from '../../contracts/errors';
import { parseS3Uri, type S3Location } from './object-store';

/**
 * The object-storage locations specs may read from and publish to, `SLUICE_S3_ROOTS` (comma-separated
 * `s3://bucket/prefix`): the data roots of object storage. A spec's `s3://` path outside them is refused.
 */
export function s3Roots(env: NodeJS.ProcessEnv = process.env): S3Location[] {
  return (env.SLUICE_S3_ROOTS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((root) => parseS3Uri(root, 'SLUICE_S3_ROOTS'));
}

/** The S3 location an `s3://` spec path names, once checked against {@link s3Roots}. */
export function insideS3Roots(uri: string, field: string, specFile: string): S3Location {
  const where = parseS3Uri(uri, `${specFile}: ${field}`);
  const roots = s3Roots();
  const inside = roots.some((r) => r.bucket === where.bucket && (r.prefix === '' || where.prefix === r.prefix || where.prefix.startsWith(`${r.prefix}/`)));
  if (!inside) {
    const allowed = roots.map((r) => `s3://${r.bucket}/${r.prefix}`).join(', ') || 'none';
    throw specError(`${specFile}: ${field}: ${uri} is outside the object-storage roots (${allowed}); set SLUICE_S3_ROOTS on the workers to allow it`);
  }
  return where;
}
