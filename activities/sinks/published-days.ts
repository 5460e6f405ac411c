import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { sqlIdent, sqlString } from '../sql/duckdb';
import { specError } from '../../contracts/errors';
import { postgresUrl } from './postgres-sink';
import { s3PublishedDays } from './s3-sink';
import { insideS3Roots } from '../storage/s3-roots';
import type { LoadedSpec } from '../../contracts/spec';

export interface PublishedFilter {
  from?: string;
  to?: string;
  /** Only days whose rows a given model version scored (found through the lineage column). */
  modelVersion?: number;
}

/** Days (`YYYY-MM-DD`, sorted) present in the spec's sink, optionally only those a model version scored. */
export async function publishedDays(loaded: LoadedSpec, filter: PublishedFilter): Promise<string[]> {
  const sink = loaded.spec.inference?.sink;
  if (!sink) throw specError('inference.sink: missing from the spec');
  const inRange = (day: string) => (!filter.from || day >= filter.from) && (!filter.to || day <= filter.to);
  let days: string[];
  switch (sink.type) {
    case 'parquet':
    case 'arrow': {
      if (sink.type === 'parquet' && sink.path.startsWith('s3://')) {
        const published = await s3PublishedDays(insideS3Roots(sink.path, 'inference.sink.path', loaded.file));
        days = published.filter((p) => filter.modelVersion === undefined || p.modelVersion === filter.modelVersion).map((p) => p.day);
        break;
      }
      const root = path.resolve(loaded.baseDir, sink.path);
      days = fs.existsSync(root)
        ? fs
            .readdirSync(root)
            .map((d) => /^day=(\d{4}-\d{2}-\d{2})$/.exec(d)?.[1])
            .filter((d): d is string => d !== undefined)
            .filter((d) => filter.modelVersion === undefined || scoredBy(path.join(root, `day=${d}`)) === filter.modelVersion)
        : [];
      break;
    }
    case 'duckdb': {
      const file = path.resolve(loaded.baseDir, sink.path);
      if (!fs.existsSync(file)) return [];
      const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
      const connection = await instance.connect();
      try {
        const exists = (await connection.runAndReadAll(`SELECT count(*) FROM duckdb_tables() WHERE table_name = ${sqlString(sink.table)}`)).getRowsJS()[0][0];
        const where = filter.modelVersion === undefined ? '' : ` WHERE model_version = ${Number(filter.modelVersion)}`;
        days = Number(exists) === 0 ? [] : (await connection.runAndReadAll(`SELECT DISTINCT strftime(day, '%Y-%m-%d') FROM ${sqlIdent(sink.table)}${where}`)).getRowsJS().map(([d]) => String(d));
      } finally {
        connection.closeSync();
        instance.closeSync();
      }
      break;
    }
    case 'postgres': {
      const client = new pg.Client({ connectionString: postgresUrl(sink.url) });
      await client.connect();
      try {
        const exists = await client.query('SELECT to_regclass($1) AS t', [sink.table]);
        const where = filter.modelVersion === undefined ? '' : ' WHERE model_version = $1';
        days = exists.rows[0].t
          ? (await client.query(`SELECT DISTINCT to_char(day, 'YYYY-MM-DD') AS d FROM ${pg.escapeIdentifier(sink.table)}${where}`, filter.modelVersion === undefined ? [] : [filter.modelVersion])).rows.map((r: { d: string }) => r.d)
          : [];
      } finally {
        await client.end();
      }
      break;
    }
  }
  return days.filter(inRange).sort();
}

function scoredBy(dir: string): number | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, '_sluice.json'), 'utf8')) as { modelVersion?: number }).modelVersion;
  } catch {
    return undefined;
  }
}
