import path from 'node:path';
import type { ArtifactStore } from '../storage/artifact-store';
import { metered } from '../cost/meter';
import { withDuckDB } from '../sql/duckdb';
import { insideDataRoots } from '../storage/data-roots';
import { dataError, specError } from '../../contracts/errors';
import { publishDuckDB } from './duckdb-sink';
import { publishArrow, publishParquet } from './parquet-sink';
import { postgresUrl, publishPostgres } from './postgres-sink';
import { publishParquetToS3 } from './s3-sink';
import { insideS3Roots } from '../storage/s3-roots';
import { stagedFilesByDay, stagedRelation } from './staged';
import type { LoadedSpec } from '../../contracts/spec';
import type { PublishRequest, PublishResult } from './sink';

export interface PublishInput {
  loaded: LoadedSpec;
  staging: string;
  runId: string;
  modelVersion: number;
  /** Rows the shards reported; the staged files of `days` must hold exactly these. */
  expectedRows: number;
  /** The days to publish (those of the shards that completed); every staged day when absent. */
  days?: string[];
}

/**
 * Publishes a run's staged scores to the spec's sink, each sink atomically per run: days replace what
 * was there, nothing half-written is visible. Refuses to publish when the staged rows do not add up.
 */
export async function publishScores(store: ArtifactStore, input: PublishInput) {
  const sink = input.loaded.spec.inference?.sink;
  if (!sink) throw specError('inference.sink: missing from the spec');
  return metered(async (meter) => {
    const all = stagedFilesByDay(await store.fetchFolder(input.staging));
    const files = input.days ? new Map([...all].filter(([day]) => input.days?.includes(day))) : all;
    if (files.size === 0) throw dataError(`nothing staged under ${input.staging}${input.days ? ` for ${input.days.length} days` : ''}`);
    const { rowsByDay, columns } = await withDuckDB(async (c) => {
      const relation = stagedRelation(files);
      const counts = (await c.runAndReadAll(`SELECT strftime(day, '%Y-%m-%d'), count(*) FROM ${relation} GROUP BY 1`)).getRowsJS();
      const described = (await c.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`)).getRowObjectsJS();
      return {
        rowsByDay: new Map(counts.map(([day, n]) => [String(day), Number(n)])),
        columns: described.map((r) => ({ name: String(r.column_name), type: String(r.column_type) })),
      };
    });
    const staged = [...rowsByDay.values()].reduce((a, b) => a + b, 0);
    if (staged !== input.expectedRows) throw new Error(`staged ${staged} rows but the shards scored ${input.expectedRows}; not publishing`);
    const request: PublishRequest = { runId: input.runId, modelVersion: input.modelVersion, files, rowsByDay, columns };
    const base = input.loaded.baseDir;
    let result: PublishResult;
    switch (sink.type) {
      case 'parquet':
        result = sink.path.startsWith('s3://')
          ? await publishParquetToS3(insideS3Roots(sink.path, 'inference.sink.path', input.loaded.file), request)
          : await publishParquet(insideDataRoots(path.resolve(base, sink.path), 'inference.sink.path', input.loaded.file), request);
        break;
      case 'arrow':
        result = await publishArrow(insideDataRoots(path.resolve(base, sink.path), 'inference.sink.path', input.loaded.file), request);
        break;
      case 'duckdb':
        result = await publishDuckDB(insideDataRoots(path.resolve(base, sink.path), 'inference.sink.path', input.loaded.file), sink.table, request);
        break;
      case 'postgres':
        result = await publishPostgres(postgresUrl(sink.url), sink.table, request);
        break;
    }
    meter.rowsIn = staged;
    meter.rowsOut = result.rows;
    return { sink: sink.type, ...result, rows: staged };
  });
}
