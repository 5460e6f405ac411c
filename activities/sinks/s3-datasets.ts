import { randomBytes } from 'node:crypto';
import { S3Objects, sharedS3Client, type S3Location } from '../storage/object-store';
import type { PublishRequest, PublishResult } from './sink';


/** What `day=YYYY-MM-DD/_sluice.json` says: who wrote the day, and the files that make it up. */
export interface S3DayManifest {
  runId: string;
  modelVersion: number;
  rows: number;
  files: string[];
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
    const stale = (await objects.list(folder)).filter((o) => !keep.has(o.key)).map((o) => o.key);
    if (stale.length > 0) await objects.removeKeys(stale, folder);
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
