import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { sqlIdent, sqlString } from '../sql/duckdb';
import { stagedRelation } from './staged';
import type { PublishRequest, PublishResult } from './sink';

/**
 * Publishes into a table of a DuckDB database file in one transaction: the run's days are deleted and
 * inserted together, so a reprocessed day replaces its rows and a failure leaves the table as it was.
 */
export async function publishDuckDB(databaseFile: string, table: string, request: PublishRequest): Promise<PublishResult> {
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
