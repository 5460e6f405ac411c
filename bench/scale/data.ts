import fs from 'node:fs';
import path from 'node:path';
import { scalar, sqlString, withDuckDB } from '../../activities/sql/duckdb';

/** The vega-datasets flights sample: 3M flights, 2001-01-01 .. 2001-06-30. */
export const FLIGHTS_3M = path.resolve('node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');

/**
 * `copies` copies of the flights sample, copy k shifted by k whole years (2001 .. 2001+copies-1), as one
 * Parquet file under .sluice/bench-data, sorted by date as event data usually lands (so a day's rows sit
 * in few row groups and a date filter skips the rest): deterministic, generated once and reused (its name
 * carries the copy count; a partial file is never left under that name).
 */
export async function scaledFlights(copies: number): Promise<{ file: string; rows: number }> {
  const dir = path.resolve('.sluice', 'bench-data');
  const file = path.join(dir, `flights-${copies * 3}m-by-date.parquet`);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true });
    const partial = `${file}.partial`;
    await withDuckDB(async (c) => {
      await c.run(
        `COPY (SELECT date + to_years(k::INTEGER) AS date, delay, distance, origin, destination FROM range(${copies}) t(k), read_parquet(${sqlString(FLIGHTS_3M)}) ORDER BY ALL)
         TO ${sqlString(partial)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`,
      );
    });
    fs.renameSync(partial, file);
  }
  const rows = Number(await withDuckDB((c) => scalar(c, `SELECT count(*) FROM read_parquet(${sqlString(file)})`)));
  return { file, rows };
}
