import fs from 'node:fs';
import path from 'node:path';
import type { PublishRequest } from '../../activities/sinks/sink';
import { sqlString, withDuckDB } from '../../activities/sql/duckdb';

/** Staged scores under `dir` as scoring leaves them: `rows` rows (id, score, run_id) per day, one Parquet file a day. */
export async function stagedScores(dir: string, runId: string, days: string[], rows: number, modelVersion = 1): Promise<PublishRequest> {
  const files = new Map<string, string[]>();
  for (const day of days) {
    const file = path.join(dir, 'staged', runId, `day=${day}`, 'data_0.parquet');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await withDuckDB((c) => c.run(`COPY (SELECT range AS id, range / ${rows} AS score, ${sqlString(runId)} AS run_id FROM range(${rows})) TO ${sqlString(file)} (FORMAT parquet)`));
    files.set(day, [file]);
  }
  const columns = [{ name: 'id', type: 'BIGINT' }, { name: 'score', type: 'DOUBLE' }, { name: 'run_id', type: 'VARCHAR' }, { name: 'day', type: 'DATE' }];
  return { runId, modelVersion, files, rowsByDay: new Map(days.map((d) => [d, rows])), columns };
}
