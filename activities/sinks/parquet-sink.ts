import fs from 'node:fs';
import path from 'node:path';
import { withDuckDB } from '../sql/duckdb';
import { writeArrowFile } from '../sources/arrow-files';
import { stagedRelation } from './staged';
import type { PublishRequest, PublishResult } from './sink';

/**
 * Publishes into a dataset of files partitioned by day (`<root>/day=YYYY-MM-DD/part-N.<ext>`). Each day is
 * assembled in a hidden folder beside it and swapped in by rename, so readers see the old day or the new
 * one, never a mix; a reprocessed day replaces the old files instead of adding to them. `_sluice.json` in
 * each day records the run and model that wrote it. `fill` writes a day's files into its folder.
 */
async function publishDays(root: string, request: PublishRequest, fill: (folder: string, day: string, files: string[]) => Promise<void> | void): Promise<PublishResult> {
  fs.mkdirSync(root, { recursive: true });
  let rows = 0;
  for (const [day, files] of request.files) {
    const target = path.join(root, `day=${day}`);
    if (writtenBy(target) === request.runId) continue; // this run already published the day (a retried attempt)
    const incoming = path.join(root, `.incoming-${request.runId}-${day}`);
    fs.rmSync(incoming, { recursive: true, force: true });
    fs.mkdirSync(incoming);
    await fill(incoming, day, files);
    fs.writeFileSync(path.join(incoming, '_sluice.json'), JSON.stringify({ runId: request.runId, modelVersion: request.modelVersion, rows: request.rowsByDay.get(day) }));
    const trash = path.join(root, `.replaced-${request.runId}-${day}`);
    if (fs.existsSync(target)) fs.renameSync(target, trash);
    fs.renameSync(incoming, target);
    fs.rmSync(trash, { recursive: true, force: true });
    rows += request.rowsByDay.get(day) ?? 0;
  }
  return { location: path.relative(process.cwd(), root) || '.', days: request.files.size, rows };
}

/** A Parquet dataset: the staged files of each day, as they are. */
export function publishParquet(root: string, request: PublishRequest): Promise<PublishResult> {
  return publishDays(root, request, (folder, _, files) => files.forEach((file, i) => fs.copyFileSync(file, path.join(folder, `part-${i}.parquet`))));
}

/** An Arrow IPC dataset (`part-0.arrow` per day, readable with `apache-arrow`, pyarrow or polars): each day's staged rows in one file. */
export function publishArrow(root: string, request: PublishRequest): Promise<PublishResult> {
  const columns = request.columns.filter((c) => c.name !== 'day');
  return withDuckDB((connection) =>
    publishDays(root, request, async (folder, day, files) => {
      await writeArrowFile(connection, stagedRelation(new Map([[day, files]])), columns, path.join(folder, 'part-0.arrow'));
    }),
  );
}

function writtenBy(dir: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, '_sluice.json'), 'utf8')) as { runId?: string }).runId;
  } catch {
    return undefined;
  }
}
