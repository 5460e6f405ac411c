/**
 * What a 7-day lookback costs single-day inference on flights: the rows the day's features read and the
 * seconds to compute them (one scoring slice's feature SQL, materialized), with `features.lookback: 7d` and
 * with no lookback, on the same spec and statistics. Parquet filters push down to row groups, so the
 * lookback should cost its own rows, not a scan of the whole source (computing the day over every row of
 * the source is shown beside it for scale).
 */
import path from 'node:path';
import { ArtifactStore } from '../activities/storage/artifact-store';
import { runSpecSql, scalar, withDuckDB } from '../activities/sql/duckdb';
import { fetchStats, prepareFeatureContext, scoringSelect, selectSource } from '../activities/inference/inference-source';
import { loadSpecFile } from '../activities/spec/loader';
import { featuresFor } from './reference';
import type { LoadedSpec } from '../contracts/spec';

const DAY = '2001-06-30';
const REPEATS = 5;

async function measure(loaded: LoadedSpec, store: ArtifactStore, stats: Parameters<typeof fetchStats>[1], names: string[]) {
  return withDuckDB(async (c) => {
    await prepareFeatureContext(c, loaded, await fetchStats(store, stats));
    await selectSource(c, loaded, { from: DAY, to: DAY });
    const rowsRead = Number(await scalar(c, 'SELECT count(*) FROM source'));
    const times: number[] = [];
    let rowsScored = 0;
    for (let i = 0; i < REPEATS; i++) {
      const started = performance.now();
      await runSpecSql('features.sql', () => c.run(`CREATE OR REPLACE TEMP TABLE day AS ${scoringSelect(loaded, names, { from: DAY, to: DAY })}`));
      times.push((performance.now() - started) / 1000);
      rowsScored = Number(await scalar(c, 'SELECT count(*) FROM day'));
    }
    return { rowsRead, rowsScored, seconds: Math.min(...times) };
  });
}

async function main(): Promise<void> {
  const store = new ArtifactStore(path.resolve('.sluice', 'bench-artifacts'));
  const specFile = 'pipelines/flights.yaml';
  const withLookback = loadSpecFile(specFile);
  const features = await featuresFor(store, specFile);
  const names = features.featureColumns.map((c) => c.name);
  const without: LoadedSpec = { ...withLookback, spec: { ...withLookback.spec, features: { ...withLookback.spec.features, lookback: '0d' } } };
  const a = await measure(without, store, features.stats, names);
  const b = await measure(withLookback, store, features.stats, names);
  const everything: LoadedSpec = { ...withLookback, spec: { ...withLookback.spec, features: { ...withLookback.spec.features, lookback: '100000d' } } };
  const c = await measure(everything, store, features.stats, names);
  const line = (label: string, r: typeof a) => `${label.padEnd(28)} ${String(r.rowsRead).padStart(9)} rows read  ${String(r.rowsScored).padStart(7)} rows scored  ${r.seconds.toFixed(3)} s`;
  console.log(`\nSingle-day inference on flights (${DAY}), feature SQL of one slice, best of ${REPEATS}`);
  console.log(line('no lookback', a));
  console.log(line('features.lookback: 7d', b));
  console.log(line('whole source (no pushdown)', c));
  console.log(`lookback/no-lookback: rows read ${(b.rowsRead / a.rowsRead).toFixed(2)}×, seconds ${(b.seconds / a.seconds).toFixed(2)}×`);
  console.log(`lookback/whole source: rows read ${(b.rowsRead / c.rowsRead).toFixed(3)}×, seconds ${(b.seconds / c.seconds).toFixed(2)}×`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
