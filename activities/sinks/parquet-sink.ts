import fs from 'node:fs';
import path from 'node:path';
import type { PublishRequest, PublishResult } from './publish';

/**
 * Publishes into a Parquet dataset partitioned by day (`<root>/day=YYYY-MM-DD/part-N.parquet`). Each
 * day is assembled in a hidden folder beside it and swapped in by rename, so readers see the old day
 * or the new one, never a mix; a reprocessed day replaces the old files instead of adding to them.
 * `_sluice.json` in each day records the run and model that wrote it.
 */
export function publishParquet(root: string, request: PublishRequest): PublishResult {
  fs.mkdirSync(root, { recursive: true });
  let rows = 0;
  for (const [day, files] of request.files) {
    const target = path.join(root, `day=${day}`);
    if (writtenBy(target) === request.runId) continue; // this run already published the day (a retried attempt)
    const incoming = path.join(root, `.incoming-${request.runId}-${day}`);
    fs.rmSync(incoming, { recursive: true, force: true });
    fs.mkdirSync(incoming);
    files.forEach((file, i) => fs.copyFileSync(file, path.join(incoming, `part-${i}.parquet`)));
    fs.writeFileSync(path.join(incoming, '_sluice.json'), JSON.stringify({ runId: request.runId, modelVersion: request.modelVersion, rows: request.rowsByDay.get(day) }));
    const trash = path.join(root, `.replaced-${request.runId}-${day}`);
    if (fs.existsSync(target)) fs.renameSync(target, trash);
    fs.renameSync(incoming, target);
    fs.rmSync(trash, { recursive: true, force: true });
    rows += request.rowsByDay.get(day) ?? 0;
  }
  return { location: path.relative(process.cwd(), root) || '.', days: request.files.size, rows };
}

function writtenBy(dir: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, '_sluice.json'), 'utf8')) as { runId?: string }).runId;
  } catch {
    return undefined;
  }
}
