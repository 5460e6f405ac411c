import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { dataError, specError } from './errors';

/**
 * Runs `work` with a fresh in-memory DuckDB connection. Extension auto-install is off, so a query that
 * needs an extension that is not built in fails at once instead of trying a download.
 */
export async function withDuckDB<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false' });
  const connection = await instance.connect();
  try {
    return await work(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A quoted SQL identifier. */
export function sqlIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const USER_ERRORS = /^(Parser|Binder|Catalog|Conversion|Invalid Input|Out of Range|Constraint|Not implemented|Invalid) Error/;

/**
 * Runs SQL that came from a spec field; a DuckDB error that retrying cannot cure becomes a non-retryable
 * failure naming the field (`features.sql: Binder Error: …`). Other errors (I/O, memory) stay retryable.
 */
export async function runSpecSql<T>(field: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    // Not `instanceof Error`: errors from the native addon may come from another realm (e.g. under jest).
    const message = typeof (err as { message?: unknown })?.message === 'string' ? (err as { message: string }).message : String(err);
    if (/^Parser Error/.test(message)) throw specError(`${field}: ${message}`);
    if (USER_ERRORS.test(message)) throw dataError(`${field}: ${message}`);
    throw err;
  }
}

/** Output columns (name and type) of a relation: a table or view name, a table function, or a parenthesized query. */
export async function describeQuery(connection: DuckDBConnection, relation: string): Promise<Array<{ name: string; type: string }>> {
  const reader = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`);
  return reader.getRowObjectsJS().map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
}

/** A single scalar from a query. */
export async function scalar(connection: DuckDBConnection, sql: string): Promise<unknown> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowsJS()[0]?.[0];
}
