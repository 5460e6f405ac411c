import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlIdent } from '../sql/duckdb';

/** Rows matching a refusal's condition, and the first of them: what a bad-label message quotes. */
export interface FirstRow {
  rows: number;
  /** The first row's `column`, as text (null: NULL). */
  value: string | null;
  /** Its time, as text. */
  at: string;
}

/** How many rows of `relation` match `where`, and the first of them by `time` (its `column` and its time); undefined when none. */
export async function firstRow(connection: DuckDBConnection, relation: string, where: string, column: string, time: string): Promise<FirstRow | undefined> {
  const reader = await connection.runAndReadAll(
    `SELECT count(*) OVER ()::BIGINT, CAST(${sqlIdent(column)} AS VARCHAR), CAST(${sqlIdent(time)} AS VARCHAR) FROM ${relation} WHERE ${where} ORDER BY ${sqlIdent(time)} LIMIT 1`,
  );
  const row = reader.getRowsJS()[0];
  return row ? { rows: Number(row[0]), value: row[1] === null ? null : String(row[1]), at: String(row[2]) } : undefined;
}
