import fs from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { Bool, DateMillisecond, Float32, Float64, Int16, Int32, Int64, Int8, Table, TimestampMillisecond, Type, Utf8, tableFromIPC, tableToIPC, vectorFromArray, type DataType, type Vector } from 'apache-arrow';
import { sqlIdent } from '../sql/duckdb';
import { dataError } from '../../contracts/errors';

/**
 * Arrow IPC files (`.arrow`, `.feather`) as a source format and a sink format, through `apache-arrow`.
 * They are not in the hot scoring path: a source is loaded into a DuckDB table once per step, and a sink
 * day is written from its staged Parquet.
 */

/** Columns appended per Arrow type: the DuckDB type, and how a value goes in (timestamps and dates as epoch milliseconds, cast after). */
const INTO_DUCKDB: Partial<Record<Type, { type: string; cast?: (column: string) => string }>> = {
  [Type.Int]: { type: 'BIGINT' },
  [Type.Float]: { type: 'DOUBLE' },
  [Type.Bool]: { type: 'BOOLEAN' },
  [Type.Utf8]: { type: 'VARCHAR' },
  [Type.LargeUtf8]: { type: 'VARCHAR' },
  [Type.Timestamp]: { type: 'BIGINT', cast: (c) => `epoch_ms(${c})` },
  [Type.Date]: { type: 'BIGINT', cast: (c) => `CAST(epoch_ms(${c}) AS DATE)` },
};

/** Loads an Arrow IPC file into the DuckDB table `name` (integers and floats widened, times as TIMESTAMP / DATE). */
export async function loadArrowTable(connection: DuckDBConnection, name: string, file: string, field: string): Promise<void> {
  let table: Table;
  try {
    table = tableFromIPC(fs.readFileSync(file));
  } catch (err) {
    throw dataError(`${field}: not a readable Arrow IPC file (${(err as Error).message.split('\n')[0]})`);
  }
  const columns = table.schema.fields.map((f, i) => {
    const into = INTO_DUCKDB[f.typeId];
    if (!into) throw dataError(`${field}: column \`${f.name}\` has Arrow type ${f.type}, which Sluice cannot read (numbers, booleans, strings, dates and timestamps)`);
    return { name: f.name, vector: table.getChildAt(i) as Vector, ...into };
  });
  const loading = `${name}__arrow`;
  await connection.run(`CREATE OR REPLACE TEMP TABLE ${sqlIdent(loading)} (${columns.map((c) => `${sqlIdent(c.name)} ${c.type}`).join(', ')})`);
  const appender = await connection.createAppender(loading);
  // Numbers from the typed arrays; strings, and times in epoch milliseconds whatever the file's unit, from get().
  const values = columns.map((c) => (c.type === 'VARCHAR' || c.cast ? undefined : (c.vector.toArray() as ArrayLike<unknown>)));
  const valid = columns.map((c) => (c.vector.nullCount > 0 ? (i: number) => c.vector.isValid(i) : () => true));
  for (let row = 0; row < table.numRows; row++) {
    columns.forEach((c, k) => {
      if (!valid[k](row)) return appender.appendNull();
      const v = values[k]?.[row] ?? c.vector.get(row);
      if (c.type === 'VARCHAR') appender.appendVarchar(String(v));
      else if (c.type === 'BOOLEAN') appender.appendBoolean(Boolean(v));
      else if (c.type === 'DOUBLE') appender.appendDouble(Number(v));
      else appender.appendBigInt(BigInt(Math.round(Number(v))));
    });
    appender.endRow();
  }
  appender.closeSync();
  const select = columns.map((c) => (c.cast ? `${c.cast(sqlIdent(c.name))} AS ${sqlIdent(c.name)}` : sqlIdent(c.name))).join(', ');
  await connection.run(`CREATE OR REPLACE TABLE ${sqlIdent(name)} AS SELECT ${select} FROM ${sqlIdent(loading)}`);
  await connection.run(`DROP TABLE ${sqlIdent(loading)}`);
}

/** How a DuckDB column of a sink goes into Arrow: the SQL that reads it, and the Arrow type. */
function outOfDuckDB(column: string, type: string): { sql: string; arrow: DataType } {
  const c = sqlIdent(column);
  if (type === 'DATE') return { sql: `epoch_ms(CAST(${c} AS TIMESTAMP))::DOUBLE`, arrow: new DateMillisecond() };
  if (type.startsWith('TIMESTAMP')) return { sql: `epoch_ms(${c})::DOUBLE`, arrow: new TimestampMillisecond() };
  if (type === 'FLOAT') return { sql: c, arrow: new Float32() };
  if (type === 'DOUBLE') return { sql: c, arrow: new Float64() };
  if (type === 'TINYINT') return { sql: c, arrow: new Int8() };
  if (type === 'SMALLINT') return { sql: c, arrow: new Int16() };
  if (type === 'INTEGER') return { sql: c, arrow: new Int32() };
  if (type === 'BIGINT') return { sql: `${c}::DOUBLE`, arrow: new Int64() };
  if (type === 'BOOLEAN') return { sql: c, arrow: new Bool() };
  return { sql: `CAST(${c} AS VARCHAR)`, arrow: new Utf8() };
}

/** Writes the rows of `relation` (SQL) as one Arrow IPC file; `columns` are its names and DuckDB types. */
export async function writeArrowFile(connection: DuckDBConnection, relation: string, columns: Array<{ name: string; type: string }>, file: string): Promise<number> {
  const out = columns.map((c) => ({ name: c.name, ...outOfDuckDB(c.name, c.type) }));
  const reader = await connection.runAndReadAll(`SELECT ${out.map((c) => `${c.sql} AS ${sqlIdent(c.name)}`).join(', ')} FROM ${relation}`);
  const data = reader.getColumnsJS();
  const vectors: Record<string, Vector> = {};
  out.forEach((c, k) => {
    const values = data[k] as Array<number | string | boolean | null>;
    // Arrow's builders take dates as Date objects, 64-bit integers as bigints, timestamps as epoch milliseconds.
    const converted =
      c.arrow instanceof DateMillisecond ? values.map((v) => (v === null ? null : new Date(Number(v)))) : c.arrow instanceof Int64 ? values.map((v) => (v === null ? null : BigInt(Math.round(Number(v))))) : values;
    vectors[c.name] = vectorFromArray(converted, c.arrow);
  });
  const table = new Table(vectors);
  fs.writeFileSync(file, tableToIPC(table, 'file'));
  return table.numRows;
}
