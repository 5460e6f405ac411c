import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { flightsSpec, writeSpec, type SpecInput } from '../test/support/specs';
import { ArtifactStore } from './storage/artifact-store';
import { sqlString, withDuckDB } from './sql/duckdb';
import { extractWindow } from './extract/extract';
import { importExternalModel, uploadModelFile } from './train/external-model';
import { readMetadata } from './onnx/graph-builder';
import { buildFeatures } from './features/features';
import { planInference } from './inference/plan';
import { ModelRunner } from './inference/model-runner';
import { loadSpecFile } from './spec/loader';
import { trainModel } from './train/train';
import type { FeatureSet } from '../contracts/artifacts';
import type { LoadedSpec } from '../contracts/spec';

/**
 * The bad-input matrix: each bad input gives a non-retryable failure of a precise type whose message
 * says what and where, before anything is published.
 */
const fixtures = path.resolve(__dirname, '..', 'test', 'fixtures');
const FLIGHTS = path.resolve(__dirname, '..', 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');
let dir: string;
let store: ArtifactStore;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bad-input-'));
  store = new ArtifactStore(path.join(dir, 'artifacts'));
});

/** The flights definition over the 8-row fixture (train = January, validate = February), changed by `change`. */
function tiny(name: string, change: (s: SpecInput) => void = () => undefined): string {
  const spec = flightsSpec();
  spec.name = name;
  spec.sources = { flights: { path: path.join(fixtures, 'tiny-flights.csv') }, airports: { path: path.join(fixtures, 'tiny-airports.csv') } };
  spec.split = { train: { from: '2001-01-01', to: '2001-01-31' }, validate: { from: '2001-02-01', to: '2001-02-28' } };
  spec.inference = { shard_rows: 1000, slice_rows: 1000, max_parallel_shards: 1, sink: { type: 'parquet', path: path.join(dir, `sink-${name}`) } };
  change(spec);
  return writeSpec(name, spec);
}

async function features(specFile: string) {
  const loaded = loadSpecFile(specFile);
  const { extracted } = await extractWindow(store, { loaded, window: { from: loaded.spec.split.train.from, to: loaded.spec.split.validate.to } });
  return { loaded, ...(await buildFeatures(store, { loaded, extracted })) };
}

async function failure(work: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApplicationFailure)) throw err ?? new Error('expected a failure');
  expect(err.nonRetryable).toBe(true);
  return err;
}

/** Uploads an ONNX file and imports it for the spec, as `sluice models register` and its workflow do. */
async function importFile(loaded: LoadedSpec, set: FeatureSet, file: string, schema: Array<{ name: string; type?: string }> | undefined) {
  const uri = await uploadModelFile(store, file);
  return importExternalModel(store, { loaded, features: set, model: { uri, file: path.basename(file), features: schema } });
}

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('bad input is refused precisely, and nothing is published', () => {
  it('a malformed CSV source', async () => {
    const broken = write('malformed.csv', 'date,delay,distance,origin,destination\n2001-01-02 08:00:00,30,500,AAA,BBB\n2001-01-02 09:00:00,zero,"500,AAA\n');
    const err = await failure(features(tiny('bad-csv', (s) => (s.sources.flights.path = broken))));
    expect(err.type).toBe('SluiceDataError');
    // Either DuckDB refuses the file, or its CSV sniffer reads it into other columns than the query expects.
    expect(err.message).toMatch(/^(sources\.flights: (Invalid Input|Conversion) Error|extract\.query: column `date` does not exist in `flights`; its columns, closest first: date,delay)/);
  });

  it('a column the query needs is missing', async () => {
    const err = await failure(features(tiny('missing-column', (s) => (s.extract.query = 'SELECT date, delay, distance, origin, destination, carrier FROM flights'))));
    expect(err.type).toBe('SluiceDataError');
    expect(err.message).toBe('extract.query: column `carrier` does not exist in `flights`; its columns, closest first: date, origin, delay, distance, destination');
  });

  it('a column of the wrong type', async () => {
    const text = fs.readFileSync(path.join(fixtures, 'tiny-flights.csv'), 'utf8').replace(',500,', ',500 miles,');
    const file = write('wrong-type.csv', text);
    const err = await failure(features(tiny('wrong-type', (s) => (s.sources.flights.path = file))));
    expect(err.type).toBe('SluiceDataError');
    // One short message: the field, the column, its type, and the first value that is not a number with its line.
    expect(err.message).toBe(
      'features.sql: column `distance` is VARCHAR where a number is needed (in `ln(s.distance)`): 1 of 8 values are not numbers; the first is "500 miles" on line 2 of sources.flights (wrong-type.csv). ' +
        'Fix the data, or convert it in extract.query (TRY_CAST(distance AS DOUBLE) gives NULL for text)',
    );
  });

  it('a text value in a numeric column used inside an expression: the column, the first offending value and its line', async () => {
    const text = fs.readFileSync(path.join(fixtures, 'tiny-flights.csv'), 'utf8').replace(',800,', ',800 miles,');
    const file = write('wrong-type-expression.csv', text);
    const inFeatures = await failure(features(tiny('type-in-expression', (s) => {
      s.sources.flights.path = file;
      s.features.sql = s.features.sql.replace('ln(s.distance)', 'ln(s.distance - 0.5)');
    })));
    expect(inFeatures.type).toBe('SluiceDataError');
    expect(inFeatures.message).toBe(
      'features.sql: column `distance` is VARCHAR where a number is needed (in `ln(s.distance - 0.5)`): 1 of 8 values are not numbers; the first is "800 miles" on line 4 of sources.flights (wrong-type-expression.csv). ' +
        'Fix the data, or convert it in extract.query (TRY_CAST(distance AS DOUBLE) gives NULL for text)',
    );
    // The same column in extract.query and in label.sql.
    const inExtract = await failure(features(tiny('type-in-extract', (s) => {
      s.sources.flights.path = file;
      s.extract.query = 'SELECT date, delay, distance * 1.609 AS km, distance, origin, destination FROM flights';
    })));
    expect(inExtract.message).toMatch(/^extract\.query: column `distance` is VARCHAR where a number is needed \(in `distance \* 1\.609`\): 1 of 8 values are not numbers; the first is "800 miles" on line 4 of sources\.flights/);
    const inLabel = await failure(features(tiny('type-in-label', (s) => {
      s.sources.flights.path = file;
      s.label.sql = 'distance - 0.5 > 600';
    })));
    expect(inLabel.message).toMatch(/^label\.sql: column `distance` is VARCHAR where a number is needed.*the first is "800 miles" on line 4/);
  });

  it('a text column of names used in arithmetic is named, and none of its values is quoted', async () => {
    const err = await failure(features(tiny('text-arithmetic', (s) => (s.features.sql = s.features.sql.replace('ln(s.distance)', 'ln(s.distance + s.origin)')))));
    expect(err.type).toBe('SluiceDataError');
    expect(err.message).toBe(
      'features.sql: column `origin` is text (VARCHAR, 8 of 8 values are not numbers) and is used where a number is needed (in `ln(s.distance + s.origin)`): encode it (a CASE or a statistics table), or list it under features.keys if it is not a model input',
    );
    expect(err.message).not.toMatch(/AAA|BBB/);
  });

  it('a missing column: the columns that exist, the closest first', async () => {
    const err = await failure(features(tiny('missing-feature-column', (s) => (s.features.sql = s.features.sql.replace('ln(s.distance)', 'ln(s.distnce)')))));
    expect(err.type).toBe('SluiceDataError');
    expect(err.message).toMatch(/^features\.sql: column `distnce` does not exist in `s` \(the rows of `source`\); its columns, closest first: distance, /);
    expect(err.message.split('first: ')[1].split(', ').sort()).toEqual(['date', 'delay', 'delayed', 'destination', 'distance', 'origin']);
    const joined = await failure(features(tiny('missing-joined-column', (s) => (s.features.sql = s.features.sql.replace('coalesce(ao.latitude, 0)', 'coalesce(ao.lat, 0)')))));
    expect(joined.message).toMatch(/^features\.sql: column `lat` does not exist in `ao` \(the rows of `airports`\); its columns, closest first: (iata|name|city|state), /);
    expect(joined.message).toContain('latitude');
  });

  it('a SQL syntax error in the feature SQL', async () => {
    const err = await failure(features(tiny('syntax', (s) => (s.features.sql = s.features.sql.replace('FROM source s', 'FROM source s WHERE')))));
    expect(err.type).toBe('SluiceSpecError');
    expect(err.message).toMatch(/^features\.sql: Parser Error: syntax error/);
  });

  it('a truncated Parquet source', async () => {
    const truncated = path.join(dir, 'truncated.parquet');
    fs.writeFileSync(truncated, fs.readFileSync(FLIGHTS).subarray(0, 100_000));
    const err = await failure(features(tiny('truncated-parquet', (s) => (s.sources.flights = { path: truncated }))));
    expect(err.type).toBe('SluiceDataError');
    expect(err.message).toBe(
      'sources.flights.path: truncated.parquet is a truncated or corrupt Parquet file (footer missing), 100000 bytes: it was cut short while being written or copied; write or copy it again',
    );
  });

  it.each([
    ['JSON', 'flights.dat', '[{"date": "2001-01-02 08:00:00", "delay": 30}]\n', 'it looks like JSON: set `format: json`'],
    ['CSV text', 'flights.txt', fs.readFileSync(path.join(fixtures, 'tiny-flights.csv'), 'utf8'), 'it looks like CSV text: set `format: csv`'],
  ])('a %s file given as a Parquet source', async (_, name, text, why) => {
    const file = write(name, text);
    const err = await failure(features(tiny(`not-parquet-${name.replace('.', '-')}`, (s) => (s.sources.flights = { path: file }))));
    expect(err.type).toBe('SluiceDataError');
    expect(err.message).toBe(`sources.flights.path: ${name} is not a Parquet file (${Buffer.byteLength(text)} bytes): ${why}`);
  });

  it('a source path outside the data roots', async () => {
    const err = await failure(features(tiny('outside', (s) => (s.sources.airports.path = '/etc/hosts'))));
    expect(err.type).toBe('SluiceSpecError');
    expect(err.message).toContain('sources.airports.path: /etc/hosts is outside the data roots (');
  });

  it('a sink path outside the data roots, refused before anything is scored', async () => {
    const { loaded, features: set } = await features(tiny('ok'));
    const outside = loadSpecFile(tiny('sink-outside', (s) => {
      if (s.inference) s.inference.sink = { type: 'parquet', path: '/var/sluice-scores' };
    }));
    const err = await failure(planInference(store, { loaded: outside, window: { from: '2001-02-03', to: '2001-02-03' }, stats: set.stats, modelFeatures: set.featureColumns, modelName: 'ok v1' }));
    expect(err.type).toBe('SluiceSpecError');
    expect(err.message).toContain('inference.sink.path: /var/sluice-scores is outside the data roots');
    expect(loaded.spec.name).toBe('ok');
  });

  it('an empty partition', async () => {
    const { loaded, features: set } = await features(tiny('ok'));
    const err = await failure(planInference(store, { loaded, window: { from: '2001-03-01', to: '2001-03-02' }, stats: set.stats, modelFeatures: set.featureColumns, modelName: 'ok v1' }));
    expect(err.type).toBe('SluiceDataError');
    expect(err.message).toBe('partition 2001-03-01 .. 2001-03-02: the source has no rows to score (extract.time_column: date); nothing was published');
    expect(fs.existsSync(path.join(dir, 'sink-ok'))).toBe(false);
  });

  it('a truncated or corrupt ONNX model', async () => {
    const { loaded, features: set } = await features(tiny('ok'));
    const { model } = await trainModel(store, { loaded, features: set });
    const truncated = write('truncated.onnx', '');
    fs.writeFileSync(truncated, fs.readFileSync(store.pathOf(model.uri)).subarray(0, 200));
    const err = await failure(Promise.resolve().then(() => ModelRunner.open(truncated, 'artifact:models/x/model.onnx', set.featureColumns.length)));
    expect(err.type).toBe('SluiceModelError');
    expect(err.message).toMatch(/^artifact:models\/x\/model\.onnx: ONNX Runtime cannot load the model/);
    const notOnnx = write('not-a-model.onnx', 'this is not protobuf');
    const imported = await failure(importFile(loaded, set, notOnnx, [{ name: 'hour_of_day', type: 'DOUBLE' }]));
    expect(imported.type).toBe('SluiceModelError');
    expect(imported.message).toMatch(/^not-a-model\.onnx: not an ONNX model/);
  });

  describe('a model trained elsewhere, registered with its schema', () => {
    const byo = path.join(fixtures, 'byo', 'byo-model.onnx');

    it('whose input is narrower than its declared schema', async () => {
      const { loaded, features: set } = await features(tiny('ok'));
      const err = await failure(importFile(loaded, set, byo, [{ name: 'hour_of_day' }, { name: 'log_distance' }]));
      expect(err.type).toBe('SluiceModelError');
      expect(err.message).toBe("byo-model.onnx: the model's input is 3 features wide, but its schema names 2");
    });

    it('that names a feature features.sql does not make: the feature columns, closest first', async () => {
      const { loaded, features: set } = await features(tiny('ok'));
      const err = await failure(importFile(loaded, set, byo, [{ name: 'hour' }, { name: 'log_distance' }, { name: 'origin_delay_rate' }]));
      expect(err.message).toMatch(/^byo-model\.onnx: feature `hour` is not a feature column of features\.sql; its feature columns, closest first: hour_sin, hour_cos, /);
    });

    it('with a type that is not a number, and without a schema when it is not as wide as the feature set', async () => {
      const { loaded, features: set } = await features(tiny('ok'));
      const text = await failure(importFile(loaded, set, byo, [{ name: 'hour_of_day', type: 'VARCHAR' }, { name: 'log_distance' }, { name: 'origin_delay_rate' }]));
      expect(text.message).toBe('byo-model.onnx: feature `hour_of_day` is declared VARCHAR; a model reads numbers (every feature reaches it as float32): declare a numeric type, or cast the column in features.sql');
      const unnamed = await failure(importFile(loaded, set, byo, undefined));
      expect(unnamed.message).toMatch(/^byo-model\.onnx: the model reads 3 features and carries no names, and features\.sql makes 18 \(origin_airport, destination_airport, hour_of_day, .*give the names in the model's input order with --schema/);
    });

    it('is imported with the metadata contract, and the same file with another schema is another model', async () => {
      const { loaded, features: set } = await features(tiny('ok'));
      const schema = [{ name: 'hour_of_day', type: 'FLOAT' }, { name: 'log_distance' }, { name: 'origin_delay_rate' }];
      const first = await importFile(loaded, set, byo, schema);
      expect(first.featureTypes).toEqual([{ name: 'hour_of_day', type: 'DOUBLE' }, { name: 'log_distance', type: 'DOUBLE' }, { name: 'origin_delay_rate', type: 'DOUBLE' }]);
      const metadata = readMetadata(fs.readFileSync(store.pathOf(first.model.uri)));
      expect(JSON.parse(metadata['sluice.feature_names'])).toEqual(['hour_of_day', 'log_distance', 'origin_delay_rate']);
      expect(metadata['sluice.origin']).toBe('external');
      const again = await importFile(loaded, set, byo, schema);
      expect(again.model.fingerprint).toBe(first.model.fingerprint);
      const reordered = await importFile(loaded, set, byo, [schema[1], schema[0], schema[2]]);
      expect(reordered.model.fingerprint).not.toBe(first.model.fingerprint);
    });
  });

  it('reads a valid tiny source fine (the fixture itself is good)', async () => {
    const rows = await withDuckDB(async (c) => Number((await c.runAndReadAll(`SELECT count(*) FROM read_csv(${sqlString(path.join(fixtures, 'tiny-flights.csv'))})`)).getRowsJS()[0][0]));
    expect(rows).toBe(8);
  });
});
