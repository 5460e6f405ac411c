import { scalar, sqlIdent, sqlString, withDuckDB } from '../sql/duckdb';
import { specError } from '../../contracts/errors';

/** Which rows of the training split a trainer fits on and which it early-stops on, as SQL conditions. */
export interface HoldoutSplit {
  fit: string;
  holdout: string;
  /** What was held out, for the log: "the last 16 of 151 days (from 2001-05-16)" or "the last 10% of rows". */
  described: string;
}

/**
 * Early stopping watches a holdout made of the last days of the training window (the last `fraction` of
 * its distinct days, by the spec's time column when the feature set keeps it), never the validation
 * window, which stays an honest test for the gates and the champion comparison. Without the time column
 * the last rows of the file are held out. The Python LightGBM trainer splits the same way.
 */
export async function holdoutSplit(parquetFile: string, timeColumn: string, fraction: number, columns: string[]): Promise<HoldoutSplit> {
  return withDuckDB(async (connection) => {
    const source = `read_parquet(${sqlString(parquetFile)})`;
    if (columns.includes(timeColumn)) {
      const day = `CAST(${sqlIdent(timeColumn)} AS DATE)`;
      const days = Number(await scalar(connection, `SELECT count(DISTINCT ${day}) FROM ${source}`));
      const held = Math.max(1, Math.ceil(days * fraction));
      if (held >= days) throw specError(`trainer.holdout: ${fraction} of ${days} training days leaves no day to fit on`);
      const cut = String(await scalar(connection, `SELECT strftime(d, '%Y-%m-%d') FROM (SELECT DISTINCT ${day} AS d FROM ${source}) ORDER BY d DESC LIMIT 1 OFFSET ${held - 1}`));
      return { fit: `${day} < DATE ${sqlString(cut)}`, holdout: `${day} >= DATE ${sqlString(cut)}`, described: `the last ${held} of ${days} days (from ${cut})` };
    }
    const rows = Number(await scalar(connection, `SELECT count(*) FROM ${source}`));
    const first = rows - Math.max(1, Math.ceil(rows * fraction));
    if (first <= 0) throw specError(`trainer.holdout: ${fraction} of ${rows} training rows leaves no row to fit on`);
    return { fit: `file_row_number < ${first}`, holdout: `file_row_number >= ${first}`, described: `the last ${rows - first} of ${rows} rows` };
  });
}
