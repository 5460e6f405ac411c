import type { ArtifactStore } from '../storage/artifact-store';
import { metered } from '../cost/meter';
import { withDuckDB } from '../sql/duckdb';
import { dataError } from '../../contracts/errors';
import { sinkTarget } from './sinks';
import { stagedFilesByDay, stagedRelation } from './staged';
import { hashSplitOf, type LoadedSpec } from '../../contracts/spec';
import type { PublishRequest } from './sink';

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
 * Publishes a run's staged scores through the spec's sink plug-in, atomically per day: days replace what was
 * there, nothing half-written is visible. Refuses to publish when the staged rows do not add up.
 */
export async function publishScores(store: ArtifactStore, input: PublishInput) {
  return metered(async (meter) => {
    const all = stagedFilesByDay(await store.fetchFolder(input.staging));
    // A hash split's shards all stage the one snapshot partition (their `days` are hash buckets), and none is ever skipped.
    const files = input.days && !hashSplitOf(input.loaded.spec) ? new Map([...all].filter(([day]) => input.days?.includes(day))) : all;
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
    const { sink, target } = sinkTarget(input.loaded);
    const result = await sink.publish(target, request);
    meter.rowsIn = staged;
    meter.rowsOut = result.rows;
    return { sink: sink.type, ...result, rows: staged };
  });
}
