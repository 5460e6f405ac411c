import { runSpecSql, sqlIdent, sqlString } from '../../sql/duckdb';
import type { FormatPlugin } from '../format';

/**
 * JSON records: a JSON array of objects, or newline-delimited JSON (one object per line, `.jsonl` / `.ndjson`),
 * told apart by DuckDB's built-in reader and parsed once into a table. Fields become columns; a nested object
 * or list becomes a STRUCT or LIST column, which spec SQL flattens (`loc.lat AS lat`).
 */
export const format: FormatPlugin = {
  name: 'json',
  summary: 'JSON: an array of objects, or newline-delimited JSON (.jsonl, .ndjson); parsed once into a table',
  extensions: /\.(json|jsonl|ndjson)$/i,
  async open(connection, name, file, field) {
    await runSpecSql(field.replace(/\.path$/, ''), () => connection.run(`CREATE OR REPLACE TABLE ${sqlIdent(name)} AS SELECT * FROM read_json(${sqlString(file)}, format = 'auto')`));
  },
  // The n-th record (object) of the file.
  positions: (file) => ({ relation: `(SELECT row_number() OVER () AS __record, * FROM read_json(${sqlString(file)}, format = 'auto'))`, position: '__record', unit: 'row' }),
};
