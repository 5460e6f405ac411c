import fs from 'node:fs';
import path from 'node:path';
import { specError } from '../../contracts/errors';
import { dataRoots, isInside } from '../storage/data-roots';
import type { PublishedFilter, PublishRequest, PublishResult } from './sink';

/**
 * A dataset of files partitioned by day (`<root>/day=YYYY-MM-DD/part-N.<ext>`), published one day at a time:
 * each day is assembled in a staging folder beside the dataset — `<parent>/.sluice-staging/<dataset>/` — never
 * inside it, so no reader's glob over the dataset (`<root>/*\/*.parquet`, `<root>/**`) sees a half-written day or
 * a replaced one; then the old day is moved aside and the new one renamed into place (the same file system, so
 * both are single renames). A reprocessed day replaces the old files; `_sluice.json` in each day records the
 * run and model that wrote it. `fill` writes a day's files into its folder.
 */
export async function publishDays(root: string, request: PublishRequest, fill: (folder: string, day: string, files: string[]) => Promise<void> | void): Promise<PublishResult> {
  fs.mkdirSync(root, { recursive: true });
  const staging = stagingFor(root);
  fs.mkdirSync(staging, { recursive: true });
  let rows = 0;
  for (const [day, files] of request.files) {
    const target = path.join(root, `day=${day}`);
    if (readRecord(target)?.runId === request.runId) continue; // this run already published the day (a retried attempt)
    const incoming = path.join(staging, `incoming-${request.runId}-${day}`);
    fs.rmSync(incoming, { recursive: true, force: true });
    fs.mkdirSync(incoming);
    await fill(incoming, day, files);
    fs.writeFileSync(path.join(incoming, '_sluice.json'), JSON.stringify({ runId: request.runId, modelVersion: request.modelVersion, rows: request.rowsByDay.get(day) }));
    const trash = path.join(staging, `replaced-${request.runId}-${day}`);
    fs.rmSync(trash, { recursive: true, force: true });
    if (fs.existsSync(target)) fs.renameSync(target, trash);
    fs.renameSync(incoming, target);
    fs.rmSync(trash, { recursive: true, force: true });
    rows += request.rowsByDay.get(day) ?? 0;
  }
  // Left when empty: another run may be assembling days of this dataset there.
  for (const dir of [staging, path.dirname(staging)]) {
    try {
      fs.rmdirSync(dir);
    } catch {
      break;
    }
  }
  return { location: path.relative(process.cwd(), root) || '.', days: request.files.size, rows };
}

/** The days of `days` a model version scored (every day when the filter names none). */
export function scoredBy(days: Array<{ day: string; modelVersion?: number }>, filter: PublishedFilter): string[] {
  return days.filter((d) => filter.modelVersion === undefined || d.modelVersion === filter.modelVersion).map((d) => d.day);
}

/** The days of a day-folder dataset (with the model version that scored each, from `_sluice.json`). */
export function daysIn(root: string): Array<{ day: string; modelVersion?: number }> {
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .map((d) => /^day=(\d{4}-\d{2}-\d{2})$/.exec(d)?.[1])
    .filter((d): d is string => d !== undefined)
    .map((day) => ({ day, modelVersion: readRecord(path.join(root, `day=${day}`))?.modelVersion }));
}

/** Where a dataset's days are assembled: beside it, in the data roots (a dataset that is a data root itself has no room beside it). */
export function stagingFor(root: string): string {
  const staging = path.join(path.dirname(root), '.sluice-staging', path.basename(root));
  if (!dataRoots().some((r) => isInside(r, staging))) {
    throw specError(`inference.sink.path: ${root} is a data root itself; its days are assembled beside it (${staging}) so that readers of the dataset never see a half-written day, and that must be inside the data roots too: make the root its parent folder`);
  }
  return staging;
}

function readRecord(dir: string): { runId?: string; modelVersion?: number } | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, '_sluice.json'), 'utf8')) as { runId?: string; modelVersion?: number };
  } catch {
    return undefined;
  }
}
