import { randomBytes } from 'node:crypto';
import { specError } from '../errors';
import { parseS3Uri, S3Objects, sharedS3Client, type S3Location } from '../storage/object-store';
import type { PublishRequest, PublishResult } from './publish';

/** What `day=YYYY-MM-DD/_sluice.json` says: who wrote the day, and the files that make it up. */
export interface S3DayManifest {
  runId: string;
  modelVersion: number;
  rows: number;
  files: string[];
}

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

/**
 * Publishes a Parquet dataset partitioned by day to S3 (`<prefix>/day=YYYY-MM-DD/part-N-<tag>.parquet`).
 * Object storage has no rename, so a day is published in three steps: the new files are uploaded under
 * names of their own, then `_sluice.json` (which lists them) is replaced in one PUT, then the files of the
 * run it replaced are deleted. A reader that follows `_sluice.json` sees the old day or the new one, never
 * a mix; a reader that lists `*.parquet` may see both runs' files between the first step and the last
 * (README: "Sinks on object storage"). A retried attempt skips the days its run already published.
 */
export async function publishParquetToS3(where: S3Location, request: PublishRequest): Promise<PublishResult> {
  const objects = new S3Objects(sharedS3Client(), where);
  let rows = 0;
  for (const [day, files] of request.files) {
    const folder = `day=${day}`;
    const before = await readDayManifest(objects, day);
    if (before?.runId === request.runId) continue;
    const tag = randomBytes(4).toString('hex');
    const names = files.map((_, i) => `part-${i}-${tag}.parquet`);
    for (let i = 0; i < files.length; i++) await objects.upload(files[i], `${folder}/${names[i]}`);
    const manifest: S3DayManifest = { runId: request.runId, modelVersion: request.modelVersion, rows: request.rowsByDay.get(day) ?? 0, files: names };
    await objects.writeText(`${folder}/_sluice.json`, JSON.stringify(manifest));
    // What the new manifest does not list: the replaced run's files, and any a failed attempt left behind.
    const keep = new Set([...names, '_sluice.json'].map((n) => `${folder}/${n}`));
    for (const stale of (await objects.list(folder)).filter((o) => !keep.has(o.key))) await objects.remove(stale.key);
    rows += manifest.rows;
  }
  return { location: objects.location, days: request.files.size, rows };
}

/** A day's manifest in an S3 dataset, or undefined when the day is not published. */
export async function readDayManifest(objects: S3Objects, day: string): Promise<S3DayManifest | undefined> {
  const text = await objects.readText(`day=${day}/_sluice.json`);
  return text === undefined ? undefined : (JSON.parse(text) as S3DayManifest);
}

/** The days published to an S3 dataset, with the model version that scored each. */
export async function s3PublishedDays(where: S3Location): Promise<Array<{ day: string; modelVersion: number }>> {
  const objects = new S3Objects(sharedS3Client(), where);
  const days = [...new Set((await objects.list('')).map((o) => /^day=(\d{4}-\d{2}-\d{2})\/_sluice\.json$/.exec(o.key)?.[1]).filter((d): d is string => d !== undefined))];
  const found: Array<{ day: string; modelVersion: number }> = [];
  for (const day of days) {
    const manifest = await readDayManifest(objects, day);
    if (manifest) found.push({ day, modelVersion: manifest.modelVersion });
  }
  return found;
}
