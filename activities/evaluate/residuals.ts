import { sqlIdent, sqlString, withDuckDB } from '../sql/duckdb';
import type { DayResiduals } from '../../contracts/metrics';

/**
 * A regression's validation residuals by day: for each day of `timeColumn` in `parquetFile` (read in file order,
 * the order the predictions were scored in), its rows, mean residual (prediction − label: above 0 over-predicts)
 * and RMSE.
 */
export async function residualsByDay(parquetFile: string, timeColumn: string, predictions: ArrayLike<number>, labels: ArrayLike<number>): Promise<DayResiduals[]> {
  const days = await withDuckDB(async (c) =>
    (await c.runAndReadAll(`SELECT strftime(CAST(${sqlIdent(timeColumn)} AS DATE), '%Y-%m-%d') FROM read_parquet(${sqlString(parquetFile)})`)).getRowsJS().map(([d]) => String(d)),
  );
  if (days.length !== predictions.length) throw new Error(`residualsByDay: ${days.length} rows in ${parquetFile} for ${predictions.length} predictions`);
  const byDay = new Map<string, { rows: number; sum: number; squared: number }>();
  days.forEach((day, i) => {
    const error = predictions[i] - labels[i];
    const entry = byDay.get(day) ?? { rows: 0, sum: 0, squared: 0 };
    entry.rows++;
    entry.sum += error;
    entry.squared += error * error;
    byDay.set(day, entry);
  });
  return [...byDay.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, e]) => ({ day, rows: e.rows, meanResidual: e.sum / e.rows, rmse: Math.sqrt(e.squared / e.rows) }));
}
