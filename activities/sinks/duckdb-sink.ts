import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { z } from 'zod';
import { identifier } from '../../contracts/spec';
import { sqlIdent, sqlString } from '../sql/duckdb';
import { stagedRelation } from './staged';
import type { PublishRequest, PublishResult, SinkPlugin } from './sink';

/**
 * Publishes into a table of a DuckDB database file in one transaction: the run's days are deleted and
 * inserted together, so a reprocessed day replaces its rows and a failure leaves the table as it was.
 */
async function publishDuckDB(databaseFile: string, table: string, request: PublishRequest): Promise<PublishResult> {
  fs.mkdirSync(path.dirname(databaseFile), { recursive: true });
  const instance = await DuckDBInstance.create(databaseFile, { autoinstall_known_extensions: 'false' });
  const connection = await instance.connect();
  const staged = stagedRelation(request.files);
  const days = [...request.files.keys()].map((d) => `DATE ${sqlString(d)}`).join(', ');
  try {
    await connection.run('BEGIN TRANSACTION');
    await connection.run(`CREATE TABLE IF NOT EXISTS ${sqlIdent(table)} AS SELECT * FROM ${staged} LIMIT 0`);
    await connection.run(`DELETE FROM ${sqlIdent(table)} WHERE day IN (${days})`);
    await connection.run(`INSERT INTO ${sqlIdent(table)} BY NAME SELECT * FROM ${staged}`);
    await connection.run('COMMIT');
  } catch (err) {
    await connection.run('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return { location: `${path.relative(process.cwd(), databaseFile)}#${table}`, days: request.files.size, rows: [...request.rowsByDay.values()].reduce((a, b) => a + b, 0) };
}

/** Days present in the table (those a model version scored, given one). */
async function daysInTable(databaseFile: string, table: string, modelVersion: number | undefined): Promise<string[]> {
  if (!fs.existsSync(databaseFile)) return [];
  const instance = await DuckDBInstance.create(databaseFile, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const exists = (await connection.runAndReadAll(`SELECT count(*) FROM duckdb_tables() WHERE table_name = ${sqlString(table)}`)).getRowsJS()[0][0];
    if (Number(exists) === 0) return [];
    const where = modelVersion === undefined ? '' : ` WHERE model_version = ${Number(modelVersion)}`;
    return (await connection.runAndReadAll(`SELECT DISTINCT strftime(day, '%Y-%m-%d') FROM ${sqlIdent(table)}${where}`)).getRowsJS().map(([d]) => String(d));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A table in a DuckDB database file: a run's days replaced in one transaction. */
export const sink: SinkPlugin = {
  type: 'duckdb',
  summary: 'a table in a DuckDB database file: the run\'s days deleted and inserted in one transaction',
  params: z
    .object({
      type: z.literal('duckdb'),
      path: z.string().min(1).describe("The database file, relative to the spec."),
      table: identifier().describe('The table, created on the first publish with the staged columns.'),
    })
    .strict(),
  objectStorage: false,
  publish: (target, request) => publishDuckDB(target.local as string, String(target.params.table), request),
  publishedDays: (target, filter) => daysInTable(target.local as string, String(target.params.table), filter.modelVersion),
};
