import { runSpecSql, sqlIdent, sqlString } from '../../sql/duckdb';
import { checkParquetFile } from '../file-check';
import type { FormatPlugin } from '../format';

/** Parquet: a view over the file, so filters and projections push down into it. The default format. */
export const format: FormatPlugin = {
  name: 'parquet',
  summary: 'Apache Parquet (the default): read in place through a view, filters pushed down',
  extensions: /\.parquet$/i,
  async open(connection, name, file, field) {
    checkParquetFile(file, field);
    await runSpecSql(field.replace(/\.path$/, ''), () => connection.run(`CREATE OR REPLACE VIEW ${sqlIdent(name)} AS SELECT * FROM read_parquet(${sqlString(file)})`));
  },
  positions: (file) => ({ relation: `read_parquet(${sqlString(file)}, file_row_number = true)`, position: 'file_row_number + 1', unit: 'row' }),
};
