import fs from 'node:fs';
import path from 'node:path';
import { sqlString } from '../sql/duckdb';

/** Staged Parquet files of a run, by day (`YYYY-MM-DD`), found under `shard-*\/slice-*\/day=…/` (never in a slice still being written, `slice-*.partial`). */
export function stagedFilesByDay(stagingDir: string): Map<string, string[]> {
  const byDay = new Map<string, string[]>();
  if (!fs.existsSync(stagingDir)) return byDay;
  for (const entry of fs.readdirSync(stagingDir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.parquet')) continue;
    const match = /slice-\d+[\\/]day=(\d{4}-\d{2}-\d{2})$/.exec(entry.parentPath);
    if (!match) continue;
    const files = byDay.get(match[1]) ?? [];
    files.push(path.join(entry.parentPath, entry.name));
    byDay.set(match[1], files);
  }
  for (const files of byDay.values()) files.sort();
  return byDay;
}

/** A DuckDB relation over staged files: their columns, then `day` (DATE) from the folder name. */
export function stagedRelation(files: Map<string, string[]>): string {
  const list = [...files.values()].flat().map(sqlString).join(', ');
  return `read_parquet([${list}], hive_partitioning = true, hive_types = {'day': DATE})`;
}
