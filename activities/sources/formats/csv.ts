import { runSpecSql, sqlIdent, sqlString } from '../../sql/duckdb';
import type { FormatPlugin } from '../format';

/** CSV with a header line: parsed once into a table (DuckDB's sniffer finds the delimiter and the types). */
export const format: FormatPlugin = {
  name: 'csv',
  summary: 'CSV with a header line (also .csv.gz): parsed once into a table, types found by DuckDB',
  extensions: /\.csv(\.gz)?$/i,
  async open(connection, name, file, field) {
    await runSpecSql(field.replace(/\.path$/, ''), () => connection.run(`CREATE OR REPLACE TABLE ${sqlIdent(name)} AS SELECT * FROM read_csv(${sqlString(file)}, header = true)`));
  },
  // Line 1 is the header.
  positions: (file) => ({ relation: `(SELECT row_number() OVER () + 1 AS __line, * FROM read_csv(${sqlString(file)}, header = true, all_varchar = true))`, position: '__line', unit: 'line' }),
};
