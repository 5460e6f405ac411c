import path from 'node:path';
import os from 'node:os';
import fs from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import { flightsSpec, writeSpec, type SpecInput } from '../../test/support/specs';
import { extractWindow } from '../extract/extract';
import { loadSpecFile } from '../spec/loader';
import { sqlString, withDuckDB } from '../sql/duckdb';
import { ArtifactStore } from '../storage/artifact-store';
import { checkTrainerTakes, trainerOf, trainers } from '../train/trainers';
import { buildFeatures } from './features';

/** Categorical features on the 8-row fixture: January trains (AAA ×3, BBB ×2, CCC), February validates (AAA, DDD). */
const fixtures = path.resolve(__dirname, '..', '..', 'test', 'fixtures');
const store = new ArtifactStore(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-categories-')));

function spec(name: string, change: (s: SpecInput) => void = () => undefined): string {
  const s = flightsSpec();
  s.name = name;
  s.sources = { flights: { path: path.join(fixtures, 'tiny-flights.csv') }, airports: { path: path.join(fixtures, 'tiny-airports.csv') } };
  s.split = { train: { from: '2001-01-01', to: '2001-01-31' }, validate: { from: '2001-02-01', to: '2001-02-28' } };
  s.features.max_categories = 2;
  s.trainer = { type: 'lightgbm' };
  change(s);
  return writeSpec(name, s);
}

async function features(file: string) {
  const loaded = loadSpecFile(file);
  const { extracted } = await extractWindow(store, { loaded, window: { from: loaded.spec.split.train.from, to: loaded.spec.split.validate.to } });
  return (await buildFeatures(store, { loaded, extracted })).features;
}

/** `column` of a split's Parquet file by origin, in row order. */
async function coded(uri: string, column: string): Promise<Array<[string, number]>> {
  return withDuckDB(async (c) => (await c.runAndReadAll(`SELECT origin, ${column} FROM read_parquet(${sqlString(store.pathOf(uri))}) ORDER BY date`)).getRowsJS().map(([o, v]) => [String(o), Number(v)]));
}

describe('categorical features', () => {
  it('codes each column by a dictionary of the training window: most frequent first, the rarer ones sharing a code, an unseen one missing', async () => {
    const set = await features(spec('categories'));
    expect(set.categorical).toEqual([
      { name: 'origin_airport', codes: 2, rare: 1 },
      { name: 'destination_airport', codes: 2, rare: 1 },
    ]);
    expect(set.featureColumns.find((c) => c.name === 'origin_airport')?.type).toBe('VARCHAR'); // the SQL's type, for the drift check
    // AAA (3 rows) → 0, BBB (2) → 1, CCC (1, past max_categories 2) → 2, the rarer code.
    expect(await coded(set.train.uri, 'origin_airport')).toEqual([['AAA', 0], ['AAA', 0], ['AAA', 0], ['BBB', 1], ['BBB', 1], ['CCC', 2]]);
    // February: AAA keeps its code; DDD was never seen in training: missing, not an error.
    const validation = await coded(set.validate.uri, 'origin_airport');
    expect(validation[0]).toEqual(['AAA', 0]);
    expect(validation[1][0]).toBe('DDD');
    expect(Number.isNaN(validation[1][1])).toBe(true);
    // The dictionary is a statistics table of the feature set.
    const dictionary = await withDuckDB(async (c) => (await c.runAndReadAll(`SELECT "column", value, code FROM read_parquet(${sqlString(store.pathOf(set.stats.sluice_categories.uri))}) ORDER BY ALL`)).getRowsJS());
    expect(dictionary.filter((r) => r[0] === 'origin_airport')).toEqual([['origin_airport', 'AAA', 0], ['origin_airport', 'BBB', 1], ['origin_airport', 'CCC', 2]]);
  });

  it('a trainer that cannot take categorical features refuses them when the spec is loaded, naming the ones that can', () => {
    // Every trainer Sluice ships takes them; a plug-in that declares `categorical: 'none'` does not.
    const loaded = loadSpecFile(spec('categories-xgboost', (s) => void (s.trainer = { type: 'xgboost' })));
    expect(trainers().map((t) => [t.type, t.categorical])).toEqual([['lightgbm', 'native'], ['linear_regression', 'one-hot'], ['logistic_regression', 'one-hot'], ['python', 'native'], ['softmax_regression', 'one-hot'], ['xgboost', 'native']]);
    let err: unknown;
    try {
      checkTrainerTakes(loaded.spec, 'pipeline.yaml', { ...trainerOf('xgboost'), categorical: 'none' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as Error).message).toBe(
      'pipeline.yaml: trainer.type: xgboost cannot take categorical features (features.categorical: origin_airport, destination_airport); use a trainer that takes them (lightgbm, logistic_regression, python, xgboost), or encode them in features.sql (a statistics table of rates, a CASE)',
    );
  });

  it('a categorical column must be an output of features.sql, and not a key', async () => {
    await expect(features(spec('categories-missing', (s) => void (s.features.categorical = ['carrier'])))).rejects.toThrow(/^features\.categorical: `carrier` is not an output column of features\.sql/);
    expect(() => loadSpecFile(spec('categories-key', (s) => void (s.features.categorical = ['origin'])))).toThrow('features.categorical: `origin` is a key: a categorical feature is a model input');
  });
});
