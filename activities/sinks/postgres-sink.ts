import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { z } from 'zod';
import { identifier } from '../../contracts/spec';
import { from as copyFrom } from 'pg-copy-streams';
import { sqlString, withDuckDB } from '../sql/duckdb';
import { specError } from '../../contracts/errors';
import { stagedRelation } from './staged';
import type { ColumnInfo } from '../../contracts/artifacts';
import type { PublishRequest, PublishResult, SinkPlugin } from './sink';

const PG_TYPES: Record<string, string> = {
  BOOLEAN: 'boolean',
  SMALLINT: 'smallint',
  INTEGER: 'integer',
  BIGINT: 'bigint',
  FLOAT: 'real',
  DOUBLE: 'double precision',
  DATE: 'date',
  TIMESTAMP: 'timestamp',
  'TIMESTAMP WITH TIME ZONE': 'timestamptz',
  VARCHAR: 'text',
};

/** The connection string of a postgres sink: the spec's `url`, else `SLUICE_POSTGRES_URL`. */
function postgresUrl(url: string | undefined): string {
  const resolved = url ?? process.env.SLUICE_POSTGRES_URL;
  if (!resolved) throw specError('inference.sink.url: a postgres sink needs a connection string here or in SLUICE_POSTGRES_URL');
  return resolved;
}

/**
 * Publishes into a PostgreSQL table in one transaction: the run's days are deleted and the staged rows
 * copied in (COPY FROM STDIN), then committed together. Readers never see a half-replaced day.
 */
async function publishPostgres(url: string, table: string, request: PublishRequest): Promise<PublishResult> {
  const csv = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-pg-')), 'rows.csv');
  await withDuckDB((c) => c.run(`COPY (SELECT * FROM ${stagedRelation(request.files)}) TO ${sqlString(csv)} (FORMAT csv, HEADER false)`));
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const quoted = pg.escapeIdentifier(table);
  try {
    await client.query('BEGIN');
    await client.query(`CREATE TABLE IF NOT EXISTS ${quoted} (${request.columns.map((c) => `${pg.escapeIdentifier(c.name)} ${pgType(c)}`).join(', ')})`);
    await client.query(`DELETE FROM ${quoted} WHERE day = ANY($1::date[])`, [[...request.files.keys()]]);
    await pipeline(fs.createReadStream(csv), client.query(copyFrom(`COPY ${quoted} (${request.columns.map((c) => pg.escapeIdentifier(c.name)).join(', ')}) FROM STDIN (FORMAT csv)`)));
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
    fs.rmSync(path.dirname(csv), { recursive: true, force: true });
  }
  const redacted = url.replace(/\/\/[^@/]*@/, '//');
  return { location: `${redacted}#${table}`, days: request.files.size, rows: [...request.rowsByDay.values()].reduce((a, b) => a + b, 0) };
}

function pgType(column: ColumnInfo): string {
  return PG_TYPES[column.type] ?? (column.type.startsWith('DECIMAL') ? 'numeric' : 'text');
}

/** Days present in the table (those a model version scored, given one). */
async function daysInTable(url: string, table: string, modelVersion: number | undefined): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const exists = await client.query('SELECT to_regclass($1) AS t', [table]);
    if (!exists.rows[0].t) return [];
    const where = modelVersion === undefined ? '' : ' WHERE model_version = $1';
    const found = await client.query(`SELECT DISTINCT to_char(day, 'YYYY-MM-DD') AS d FROM ${pg.escapeIdentifier(table)}${where}`, modelVersion === undefined ? [] : [modelVersion]);
    return found.rows.map((r: { d: string }) => r.d);
  } finally {
    await client.end();
  }
}

/** True when a connection string carries a password (`postgres://user:secret@host/db` or `password=` in its parameters); the iceberg sink's catalog URL is checked the same way. */
export function hasPassword(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(url) || /[?&\s]password=/i.test(url) || /^password=/i.test(url);
}

/** A PostgreSQL table: a run's days deleted and `COPY`-ed in, in one transaction. */
export const sink: SinkPlugin = {
  type: 'postgres',
  summary: 'a PostgreSQL table: the run\'s days deleted and COPY-ed in, in one transaction',
  params: z
    .object({
      type: z.literal('postgres'),
      table: identifier().describe('The table, created on the first publish with the staged columns.'),
      url: z
        .string()
        // `sensitive`: the error must not quote the value (it holds the password it is about).
        .refine((url) => !hasPassword(url), { message: "must not contain a password: a spec is recorded in every run's history. Give the workers the password in SLUICE_POSTGRES_URL, PGPASSWORD or ~/.pgpass", params: { sensitive: true } })
        .optional()
        .describe("Connection string without a password (else SLUICE_POSTGRES_URL); the password comes from the workers' environment, PGPASSWORD or ~/.pgpass."),
    })
    .strict(),
  objectStorage: false,
  publish: (target, request) => publishPostgres(postgresUrl(target.params.url as string | undefined), String(target.params.table), request),
  publishedDays: (target, filter) => daysInTable(postgresUrl(target.params.url as string | undefined), String(target.params.table), filter.modelVersion),
};
