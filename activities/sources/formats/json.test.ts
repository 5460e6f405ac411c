import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { flightsSpec, writeSpec, type SpecInput } from '../../../test/support/specs';
import { extractWindow } from '../../extract/extract';
import { buildFeatures } from '../../features/features';
import { loadSpecFile } from '../../spec/loader';
import { sqlString, withDuckDB } from '../../sql/duckdb';
import { ArtifactStore } from '../../storage/artifact-store';
import { trainModel } from '../../train/train';

/** JSON sources: an array of objects and newline-delimited JSON read through the same pipeline, and a nested field refused clearly. */
const fixtures = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-json-'));
const store = new ArtifactStore(path.join(dir, 'artifacts'));

/** The tiny flights fixture as JSON records (the CSV's rows, read by DuckDB and written back as JSON). */
async function asJson(file: string, layout: 'ARRAY' | 'NEWLINE_DELIMITED', select = '*'): Promise<string> {
  await withDuckDB((c) =>
    c.run(`COPY (SELECT ${select} FROM read_csv(${sqlString(path.join(fixtures, 'tiny-flights.csv'))}, header = true)) TO ${sqlString(file)} (FORMAT json, ARRAY ${layout === 'ARRAY'})`),
  );
  return file;
}

function spec(name: string, flights: string, change: (s: SpecInput) => void = () => undefined): string {
  const s = flightsSpec();
  s.name = name;
  s.sources = { flights: { path: flights }, airports: { path: path.join(fixtures, 'tiny-airports.csv') } };
  s.split = { train: { from: '2001-01-01', to: '2001-01-31' }, validate: { from: '2001-02-01', to: '2001-02-28' } };
  change(s);
  return writeSpec(name, s);
}

async function features(file: string) {
  const loaded = loadSpecFile(file);
  const { extracted } = await extractWindow(store, { loaded, window: { from: loaded.spec.split.train.from, to: loaded.spec.split.validate.to } });
  return { loaded, ...(await buildFeatures(store, { loaded, extracted })) };
}

describe('JSON sources', () => {
  it('reads newline-delimited JSON and a JSON array into the same features as the CSV, and trains on them', async () => {
    const csv = await features(spec('json-csv', path.join(fixtures, 'tiny-flights.csv')));
    const ndjson = await features(spec('json-ndjson', await asJson(path.join(dir, 'flights.ndjson'), 'NEWLINE_DELIMITED')));
    const array = await features(spec('json-array', await asJson(path.join(dir, 'flights-array.json'), 'ARRAY')));
    for (const json of [ndjson, array]) {
      expect(json.features.train.rows).toBe(csv.features.train.rows);
      expect(json.features.featureColumns).toEqual(csv.features.featureColumns);
    }
    const { model } = await trainModel(store, { loaded: ndjson.loaded, features: ndjson.features });
    expect(model.featureNames).toEqual(csv.features.featureColumns.map((c) => c.name));
    expect(fs.existsSync(store.pathOf(model.uri))).toBe(true);
  });

  it('is chosen by `format: json` whatever the file is called', async () => {
    const file = await asJson(path.join(dir, 'flights.records'), 'NEWLINE_DELIMITED');
    const read = await features(spec('json-declared', file, (s) => void (s.sources.flights.format = 'json')));
    expect(read.features.train.rows).toBe(6);
  });

  it('a nested field used as a number gets the clear error a wrong type gets', async () => {
    const nested = await asJson(path.join(dir, 'nested.ndjson'), 'NEWLINE_DELIMITED', "date, delay, {'miles': distance, 'km': distance * 1.609} AS distance, origin, destination");
    const err = await features(spec('json-nested', nested)).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(err instanceof ApplicationFailure)) throw err ?? new Error('expected a failure');
    expect(err.type).toBe('SluiceDataError');
    expect(err.message).toBe('features.sql: column `distance` is nested (STRUCT(miles BIGINT, km DOUBLE)) where a number is needed (in `ln(s.distance)`): select its fields in extract.query, e.g. distance.<field> AS distance_<field>');
  });

  it('a malformed JSON file names the source', async () => {
    fs.writeFileSync(path.join(dir, 'broken.json'), '{"date": "2001-01-02 08:00:00", "delay": 30');
    const err = await features(spec('json-broken', path.join(dir, 'broken.json'))).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as ApplicationFailure).message).toMatch(/^sources\.flights: Invalid Input Error: Malformed JSON in file "[^"]*broken\.json", at byte \d+/);
  });
});
