import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { pipelineSpec, writeSpec, type SpecInput } from '../../test/support/specs';
import { extractWindow } from '../extract/extract';
import { buildFeatures } from '../features/features';
import { loadSpecFile, parseSpec } from '../spec/loader';
import { checkSpecSql } from '../spec/sql-check';
import { sqlString, withDuckDB } from '../sql/duckdb';
import { ArtifactStore } from '../storage/artifact-store';
import { splitDaySql } from './hash-split';

/** A split by a hash of key columns: deterministic, independent of row order, a seed's own, and refused where time would matter. */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-hash-'));
const store = new ArtifactStore(path.join(dir, 'artifacts'));
const PENGUINS = path.resolve(__dirname, '..', '..', 'node_modules', 'vega-datasets', 'data', 'penguins.json');

async function failure(run: () => unknown): Promise<ApplicationFailure> {
  try {
    await run();
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
  throw new Error('expected a failure');
}

/** pipelines/penguins.yaml named `name`, with `change` applied. */
function penguins(name: string, change: (s: SpecInput) => void = () => undefined): string {
  const spec = pipelineSpec('penguins');
  spec.name = name;
  change(spec);
  return writeSpec(name, spec);
}

/** The penguins as records with an explicit `id` (their position in vega-datasets' file), written in `order`. */
async function penguinsWithIds(order: 'ASC' | 'DESC'): Promise<string> {
  const file = path.join(dir, `penguins-${order}.json`);
  await withDuckDB((c) => c.run(`COPY (SELECT * FROM (SELECT row_number() OVER () AS id, * FROM read_json(${sqlString(PENGUINS)})) ORDER BY id ${order}) TO ${sqlString(file)} (FORMAT json, ARRAY true)`));
  return file;
}

/** The features of a spec: its validation rows' keys, sorted, and both splits' sizes. */
async function split(file: string) {
  const loaded = loadSpecFile(file);
  const { extracted } = await extractWindow(store, { loaded, window: { from: loaded.spec.split.train.from, to: loaded.spec.split.validate.to } });
  const { features } = await buildFeatures(store, { loaded, extracted });
  const ids = await withDuckDB(async (c) => (await c.runAndReadAll(`SELECT penguin_id FROM read_parquet(${sqlString(store.pathOf(features.validate.uri))}) ORDER BY 1`)).getRowsJS().map(([id]) => Number(id)));
  return { features, ids };
}

describe('a hash split', () => {
  it("puts a row on the side the MD5 of the seed and its keys says, as any other MD5 computes it", async () => {
    // The documented rule, computed here with Node's MD5: bucket = first 32 bits of md5("<seed>\x1f<key>…") mod 100.
    const bucket = (seed: number, ...keys: string[]) => Number(BigInt(`0x${createHash('md5').update([String(seed), ...keys].join('\x1f')).digest('hex').slice(0, 8)}`) % 100n);
    const rows = [[1, 'a'], [2, 'b'], [3, null], [123456789, 'Gentoo']] as const;
    const days = await withDuckDB(async (c) => {
      const values = rows.map(([k, t]) => `(${k}, ${t === null ? 'NULL' : sqlString(t)})`).join(', ');
      const reader = await c.runAndReadAll(`SELECT CAST(${splitDaySql(['k', 't'], 7)} - DATE '2000-01-01' AS INTEGER) FROM (VALUES ${values}) AS v(k, t)`);
      return reader.getRowsJS().map(([d]) => Number(d));
    });
    expect(days).toEqual(rows.map(([k, t]) => bucket(7, String(k), t ?? '\0')));
  });

  it('holds out about the validation share, the same rows whatever their order in the file, and other rows with another seed', async () => {
    const forward = await penguinsWithIds('ASC');
    const backward = await penguinsWithIds('DESC');
    const withIds = (s: SpecInput, file: string) => {
      s.sources.penguins.path = file;
      s.extract.query = s.extract.query.replace('rowid AS penguin_id', 'id AS penguin_id');
    };
    const a = await split(penguins('hash-forward', (s) => withIds(s, forward)));
    const b = await split(penguins('hash-backward', (s) => withIds(s, backward)));
    const reseeded = await split(penguins('hash-reseeded', (s) => {
      withIds(s, forward);
      s.split = { by: 'hash', keys: ['penguin_id'], validate: 0.2, seed: 8 };
    }));
    const total = a.features.train.rows + a.features.validate.rows;
    expect(total).toBe(342);
    console.log(`penguins by hash: ${a.features.train.rows} training rows, ${a.features.validate.rows} validation rows (${((100 * a.features.validate.rows) / total).toFixed(1)} %)`);
    expect(a.features.validate.rows / total).toBeGreaterThan(0.12);
    expect(a.features.validate.rows / total).toBeLessThan(0.28);
    expect(b.ids).toEqual(a.ids);
    expect(reseeded.ids).not.toEqual(a.ids);
    expect(a.features.classes?.map((c) => c.name)).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    // The bucket column is the split's, not a feature.
    expect(a.features.featureColumns.map((c) => c.name)).toEqual(['island', 'sex', 'beak_length_mm', 'beak_depth_mm', 'flipper_length_mm', 'body_mass_g', 'beak_ratio']);
  });

  it('refuses keys that extract.query or features.sql does not select, naming the columns it has', async () => {
    const noKey = await failure(() => split(penguins('hash-no-key', (s) => void (s.split = { by: 'hash', keys: ['bird'], validate: 0.2 }))));
    expect(noKey.message).toBe('split.keys: `bird` is not an output column of extract.query (columns: penguin_id, recorded_species, island, sex, beak_length_mm, beak_depth_mm, flipper_length_mm, body_mass_g)');
    const dropped = await failure(() => split(penguins('hash-key-dropped', (s) => {
      s.features.keys = [];
      s.features.sql = s.features.sql.replace('SELECT penguin_id, ', 'SELECT ');
    })));
    expect(dropped.message).toMatch(/^split\.keys: `penguin_id` is not an output column of features\.sql: select it through \(a hash split reads each row's keys from its features; columns: species, island, sex, /);
  });

  const base = fs.readFileSync(path.resolve(__dirname, '..', '..', 'pipelines', 'penguins.yaml'), 'utf8');
  it.each([
    ['a time column', base.replace('  query: |', '  time_column: day\n  query: |'), 'extract.time_column: a hash split reads no time column: leave it out, or split by time windows (split: {train: {from, to}, validate: {from, to}})'],
    ['a lookback', base.replace('  keys: [penguin_id]\n  categorical', '  keys: [penguin_id]\n  lookback: 7d\n  categorical'), 'features.lookback: point-in-time windows do not apply to a hash split: its rows have no time, so features are computed from each row alone; leave lookback out, or split by time'],
    ['a horizon', base.replace('  name: species\n', '  name: species\n  horizon: 1d\n'), 'label.horizon: point-in-time windows do not apply to a hash split: its rows have no time, so a label is computed from its own row; leave horizon out, or split by time'],
    ['a skippable shard', `${base}on_failure: { skippable: [score-shard] }\n`, 'on_failure.skippable: a hash-split pipeline publishes the whole source as one partition, so no shard of it can be skipped'],
    ['a validation share over a half', base.replace('validate: 0.2', 'validate: 0.6'), 'split.validate: Too big: expected number to be <=0.5'],
    ['a share finer than a percent', base.replace('validate: 0.2', 'validate: 0.125'), 'split.validate: expected a share in whole percent, such as 0.2'],
    ['no keys', base.replace('  keys: [penguin_id]\n  validate', '  keys: []\n  validate'), 'split.keys: expected at least one key column (an id)'],
    ['an unknown kind of split', base.replace('by: hash', 'by: random'), 'split.by: expected one of "time", "hash", got "random"'],
  ])('refuses %s', (_, text, message) => {
    expect(() => parseSpec(text, path.resolve(__dirname, '..', '..', 'pipelines', 'bad.yaml'))).toThrow(message);
  });

  it('asks a time split for its time column, naming the hash split for data without one', () => {
    const time = fs.readFileSync(path.resolve(__dirname, '..', '..', 'pipelines', 'seattle-rain.yaml'), 'utf8').replace(/\n\s*time_column: date/, '');
    expect(() => parseSpec(time, 'pipelines/bad.yaml')).toThrow('extract.time_column: is required: the column of event time the split windows select rows by (data with no time column is split by a hash of its keys: split: {by: hash, keys: [id], validate: 0.2})');
  });

  it('refuses a window function in features.sql or label.sql', async () => {
    const windowed = await failure(() => checkSpecSql(loadSpecFile(penguins('hash-window', (s) => void (s.features.sql = s.features.sql.replace('AS beak_ratio', 'AS beak_ratio, avg(body_mass_g) OVER () AS mean_mass'))))));
    expect(windowed.message).toMatch(/features\.sql: uses the window function avg\(\), which reads other rows; a hash split's rows have no time order, .* or split by time$/);
  });
});
