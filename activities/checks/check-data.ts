import type { DuckDBConnection } from '@duckdb/node-api';
import type { ChecksReport, CheckOutcome } from '../../contracts/checks';
import { CATEGORIES_TABLE, hashSplitOf, type DateWindow, type LoadedSpec } from '../../contracts/spec';
import type { ExtractedRows, FeatureSet } from '../../contracts/artifacts';
import { metered } from '../cost/meter';
import { labelledRowsSql, readPredicate, windowFeaturesSql } from '../features/point-in-time';
import { createSourceViews, extractQuery, featureSql } from '../sources/sources';
import { sqlIdent, sqlString, withDuckDB } from '../sql/duckdb';
import type { ArtifactStore } from '../storage/artifact-store';
import { checkRelation, checkSql, checksOn, reportOrFail } from './run-checks';
import { dayRange } from './trailing';

export interface CheckDataInput {
  loaded: LoadedSpec;
  extracted: ExtractedRows;
  features: FeatureSet;
  runId: string;
}

/** Runs both relations' checks on a connection whose `extract_rows` (and, for feature checks, `source`) views are set. */
async function runBoth(connection: DuckDBConnection, store: ArtifactStore, loaded: LoadedSpec, window: DateWindow, featuresSql: () => Promise<string>, runId: string): Promise<{ outcomes: CheckOutcome[]; dayRows: Map<string, number> }> {
  const time = hashSplitOf(loaded.spec) ? undefined : loaded.spec.extract.time_column;
  const extract = await checkRelation(connection, store, loaded, { on: 'extract', sql: 'extract_rows', time, ...window }, runId);
  const features = checksOn(loaded, 'features').length > 0 ? await checkRelation(connection, store, loaded, { on: 'features', sql: await featuresSql(), time, ...window }, runId) : { outcomes: [] };
  return { outcomes: [...extract.outcomes, ...features.outcomes], dayRows: extract.dayRows };
}

/**
 * The spec's checks on a training run's rows (the training and validation windows), before anything is trained:
 * `on: extract` checks read the extracted rows, `on: features` checks the rows features.sql returns over them
 * (with the statistics the features step learned; categories as the SQL gives them, not coded). A failing `error`
 * check is a non-retryable data error naming the check, the column, the day and what was seen against the bound.
 */
export async function checkTrainingData(store: ArtifactStore, { loaded, extracted, features, runId }: CheckDataInput) {
  const { spec } = loaded;
  const window = { from: spec.split.train.from, to: spec.split.validate.to };
  return metered(async (meter) => {
    const checks = await withDuckDB(
      async (connection): Promise<ChecksReport> => {
        const wantFeatures = checksOn(loaded, 'features').length > 0;
        await createSourceViews(connection, loaded, [...checkSql(loaded), ...(wantFeatures ? featureSql(loaded) : [])]);
        await connection.run(`CREATE VIEW extract_rows AS SELECT * FROM read_parquet(${sqlString(await store.fetch(extracted.uri))})`);
        const featuresSql = async () => {
          for (const [name, ref] of Object.entries(features.stats)) {
            if (name !== CATEGORIES_TABLE) await connection.run(`CREATE TABLE ${sqlIdent(name)} AS SELECT * FROM read_parquet(${sqlString(await store.fetch(ref.uri))})`);
          }
          await connection.run(`CREATE VIEW source AS ${labelledRowsSql(loaded, 'extract_rows', { window, horizon: true })}`);
          return `(${windowFeaturesSql(loaded, window, extracted.dataEnd)})`;
        };
        const { outcomes, dayRows } = await runBoth(connection, store, loaded, window, featuresSql, runId);
        return reportOrFail(outcomes, dayRows, `training ${spec.name} (${window.from} .. ${window.to})`);
      },
      { confineTo: [store.root] },
    );
    meter.rowsIn = extracted.rows;
    return { checks };
  });
}

/**
 * The spec's checks on a scoring shard's days, before any of its scores is staged, on a connection prepared with
 * the model's feature context (prepareFeatureContext) and `source` selected for the shard's days (selectSource).
 */
export async function checkShardData(connection: DuckDBConnection, store: ArtifactStore, loaded: LoadedSpec, window: DateWindow, runId: string, snapshot?: string): Promise<ChecksReport> {
  // The extract's rows of the shard's days and the lookback before them (those count as history only).
  await connection.run(`CREATE OR REPLACE VIEW extract_rows AS SELECT * FROM (${extractQuery(loaded)}) WHERE ${readPredicate(loaded, { window, horizon: false })}`);
  const { outcomes, dayRows } = await runBoth(connection, store, loaded, window, async () => `(${windowFeaturesSql(loaded, window)})`, runId);
  return reportOrFail(outcomes, dayRows, `scoring ${loaded.spec.name} ${snapshot ? 'snapshot' : dayRange(window)}`);
}
