import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { describeQuery, sqlIdent, sqlString } from './duckdb';
import { dataError } from './errors';
import { resolveSources } from './sources';
import type { LoadedSpec } from './spec-loader';

/** DuckDB's words for an operator or function given a value of the wrong type. */
const TYPE_ERROR = /^([\w.]+): Binder Error: (No function matches|Cannot compare|Cannot mix|Could not choose a best candidate)/;

/** Longest stretch of an offending value quoted in a message. */
const VALUE_CHARS = 40;

/**
 * Turns DuckDB's answer to a text value in a numeric column — "No function matches '-(VARCHAR, DOUBLE)'"
 * and forty lines of candidate functions — into one short message that names the spec field, the column,
 * its actual type and, for a CSV source, the first value that is not a number and its line. `relation`
 * holds the rows the field read (the extracted rows). Any other error is returned as it is.
 */
export async function explainTypeMismatch(connection: DuckDBConnection, loaded: LoadedSpec, relation: string, err: unknown): Promise<unknown> {
  const message = String((err as { message?: unknown })?.message ?? '');
  const match = TYPE_ERROR.exec(message);
  if (!match) return err;
  const field = match[1];
  const sql = fieldSql(loaded, field);
  try {
    const columns = (await describeQuery(connection, relation)).filter((c) => c.type === 'VARCHAR' && new RegExp(`\\b${c.name}\\b`).test(sql));
    for (const column of columns) {
      const counts = await connection.runAndReadAll(
        `SELECT count(*) FILTER (WHERE TRY_CAST(${sqlIdent(column.name)} AS DOUBLE) IS NULL AND ${sqlIdent(column.name)} IS NOT NULL), count(${sqlIdent(column.name)}) FROM ${relation}`,
      );
      const [text, total] = counts.getRowsJS()[0].map(Number);
      // A column of names (origin, destination) is text by design; one that is mostly numbers holds a stray text value.
      if (text === 0 || text * 2 > total) continue;
      const where = await firstTextValue(connection, loaded, column.name);
      return dataError(
        `${field}: column \`${column.name}\` is ${column.type} where a number is needed: ${text} of ${total} values are not numbers${where}. ` +
          `Fix the data, or convert it in extract.query (TRY_CAST(${column.name} AS DOUBLE) gives NULL for text)`,
      );
    }
  } catch {
    // The explanation is a courtesy: when it cannot be made, the original error stands.
  }
  return err;
}

/** The SQL text of a spec field named like `features.sql` or `features.stats.overall`. */
function fieldSql(loaded: LoadedSpec, field: string): string {
  const { spec } = loaded;
  if (field === 'label.sql') return spec.label.sql;
  if (field === 'extract.query') return spec.extract.query;
  if (field.startsWith('features.stats.')) return spec.features.stats[field.slice('features.stats.'.length)] ?? '';
  return spec.features.sql;
}

/** `; the first is "500 miles" on line 3 of sources.flights (flights.csv)` for a CSV source with the column, else ''. */
async function firstTextValue(connection: DuckDBConnection, loaded: LoadedSpec, column: string): Promise<string> {
  for (const [name, file] of Object.entries(await resolveSources(loaded))) {
    const format = loaded.spec.sources[name].format ?? (/\.csv(\.gz)?$/i.test(file) ? 'csv' : 'parquet');
    if (format !== 'csv') continue;
    const csv = `read_csv(${sqlString(file)}, header = true, all_varchar = true)`;
    if (!(await describeQuery(connection, csv)).some((c) => c.name === column)) continue;
    const reader = await connection.runAndReadAll(
      `SELECT line, value FROM (SELECT row_number() OVER () + 1 AS line, ${sqlIdent(column)} AS value FROM ${csv}) WHERE TRY_CAST(value AS DOUBLE) IS NULL AND value IS NOT NULL ORDER BY line LIMIT 1`,
    );
    const row = reader.getRowsJS()[0];
    if (!row) continue;
    const value = String(row[1]);
    const shown = value.length > VALUE_CHARS ? `${value.slice(0, VALUE_CHARS)}…` : value;
    return `; the first is ${JSON.stringify(shown)} on line ${Number(row[0])} of sources.${name} (${path.basename(file)})`;
  }
  return '';
}
