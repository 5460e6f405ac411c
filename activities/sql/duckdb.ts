import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { dataRoots, realPath } from '../storage/data-roots';
import { dataError, specError } from '../../contracts/errors';
import { sourceCacheDir } from '../sources/s3-sources';

export interface DuckDBOptions {
  /**
   * Confine the connection to these folders (plus the data roots and a temp folder of its own): file
   * access anywhere else — read_text, glob, COPY, ATTACH, INSTALL — fails with a Permission Error, and
   * its configuration is locked. Every connection that runs spec SQL is confined.
   */
  confineTo?: string[];
  /** DuckDB threads (set before the configuration is locked). */
  threads?: number;
}

/**
 * Runs `work` with a fresh in-memory DuckDB connection. Extension auto-install is off, so a query that
 * needs an extension that is not built in fails at once instead of trying a download.
 */
export async function withDuckDB<T>(work: (connection: DuckDBConnection) => Promise<T>, options: DuckDBOptions = {}): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false' });
  const connection = await instance.connect();
  const temp = options.confineTo ? fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-duckdb-')) : undefined;
  try {
    if (options.threads !== undefined) await connection.run(`SET threads = ${Math.max(1, Math.floor(options.threads))}`);
    // A bounded DuckDB spills its sorts, joins and aggregates to its temp folder instead of growing the worker.
    const limit = duckdbMemoryLimit();
    if (limit) await connection.run(`SET memory_limit = ${sqlString(limit)}`);
    if (options.confineTo && temp) await confine(connection, [...dataRoots(), realPath(sourceCacheDir()), ...options.confineTo.map(realPath), realPath(temp)], temp);
    return await work(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
    if (temp) fs.rmSync(temp, { recursive: true, force: true });
  }
}

/** DuckDB's memory limit per connection (each activity opens its own), `SLUICE_DUCKDB_MEMORY` (e.g. `1GB`); DuckDB's default (80 % of RAM) when unset. */
function duckdbMemoryLimit(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const text = env.SLUICE_DUCKDB_MEMORY?.trim();
  if (!text) return undefined;
  if (!/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(text)) throw new Error(`SLUICE_DUCKDB_MEMORY=${text}: expects an amount such as 512MB or 2GB`);
  return text;
}

/** Locks a connection to `allowed` folders: external access off, only these folders readable and writable, configuration locked. */
async function confine(connection: DuckDBConnection, allowed: string[], temp: string): Promise<void> {
  const list = [...new Set(allowed)].map((dir) => sqlString(dir.endsWith(path.sep) ? dir : `${dir}${path.sep}`));
  await connection.run(`SET temp_directory = ${sqlString(realPath(temp))}`);
  await connection.run(`SET allowed_directories = [${list.join(', ')}]`);
  await connection.run('SET enable_external_access = false');
  await connection.run('SET lock_configuration = true');
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
/** Errors whose text can quote values read from the data (a cell that failed to convert, a CSV line). */
const VALUE_ERRORS = /^(Conversion|Invalid Input|Out of Range|Constraint|Invalid) Error/;

/**
 * Runs SQL that came from a spec field; a DuckDB error that retrying cannot cure becomes a non-retryable
 * failure naming the field (`features.sql: Binder Error: …`). Other errors (I/O, memory) stay retryable.
 * The failure carries the error's first line with quoted data values masked — a secret in a cell that
 * failed to convert must not reach a workflow history or the CLI — and the full text goes to the worker log.
 */
export async function runSpecSql<T>(field: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    // Not `instanceof Error`: errors from the native addon may come from another realm (e.g. under jest).
    const message = typeof (err as { message?: unknown })?.message === 'string' ? (err as { message: string }).message : String(err);
    if (/^Permission Error/.test(message)) {
      throw specError(`${field}: reads or writes a file outside the data roots and the artifact store, which a spec may not do (${message.split('\n')[0]})`);
    }
    if (!/^Parser Error/.test(message) && !USER_ERRORS.test(message)) throw err;
    const short = redactedFirstLine(message);
    if (short !== message) workerLog(`${field}: ${message}`);
    const failure = /^Parser Error/.test(message) ? specError(`${field}: ${short}`) : dataError(`${field}: ${short}`);
    // The whole text stays on the error object (never serialized), for the explainers of sql-errors.ts.
    Object.defineProperty(failure, 'sqlMessage', { value: message, enumerable: false });
    throw failure;
  }
}

/**
 * The first line of a DuckDB error; in errors that can quote data, every quoted value masked — except the
 * path of an existing file (a source that is truncated, say), which says where and is no data.
 */
export function redactedFirstLine(message: string): string {
  const first = message.split('\n')[0].trim();
  if (!VALUE_ERRORS.test(first)) return first;
  return first
    .replace(/'((?:[^']|'')*)'/g, (quoted, value: string) => (fs.existsSync(value) ? quoted : "'…'"))
    .replace(/\bstring "((?:[^"]|"")*)"/g, 'string "…"');
}

/** The full text of an error for the worker's own log (the activity logger inside an activity). */
function workerLog(text: string): void {
  try {
    Context.current().log.warn(text);
  } catch {
    console.warn(text);
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
