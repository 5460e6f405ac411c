import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { flightsSpec, writeSpec, type SpecInput } from '../../test/support/specs';
import { ArtifactStore } from '../storage/artifact-store';
import { scalar, sqlString, withDuckDB } from '../sql/duckdb';
import { extractWindow } from '../extract/extract';
import { buildFeatures } from './features';
import { trainingClasses } from './classes';
import { loadSpecFile } from '../spec/loader';

const fixtures = path.resolve(__dirname, '..', '..', 'test', 'fixtures');

/** The flights feature definition over an 8-row fixture: train = January (6 rows), validate = February (2 rows). */
function tinySpec(name: string, change: (spec: SpecInput) => void = () => undefined): string {
  const spec = flightsSpec();
  spec.name = name;
  spec.sources = {
    flights: { path: path.join(fixtures, 'tiny-flights.csv') },
    airports: { path: path.join(fixtures, 'tiny-airports.csv') },
  };
  spec.split = { train: { from: '2001-01-01', to: '2001-01-31' }, validate: { from: '2001-02-01', to: '2001-02-28' } };
  change(spec);
  return writeSpec(name, spec);
}

async function run(specFile: string, store: ArtifactStore) {
  const loaded = loadSpecFile(specFile);
  const { extracted } = await extractWindow(store, { loaded, window: { from: loaded.spec.split.train.from, to: loaded.spec.split.validate.to } });
  return buildFeatures(store, { loaded, extracted });
}

async function rowsOf(file: string): Promise<Array<Record<string, unknown>>> {
  return withDuckDB(async (c) => (await c.runAndReadAll(`SELECT * FROM read_parquet(${sqlString(file)}) ORDER BY date`)).getRowObjectsJS());
}

async function expectDataError(promise: Promise<unknown>, message: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApplicationFailure)) throw err;
  expect((err as ApplicationFailure).type).toBe('SluiceDataError');
  expect((err as ApplicationFailure).message).toContain(message);
}

describe('the flights feature SQL on a tiny fixture', () => {
  let store: ArtifactStore;
  beforeEach(() => {
    store = new ArtifactStore(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-features-')));
  });

  it('computes the features by hand, with history from the training window only', async () => {
    const { features, reused } = await run(tinySpec('tiny'), store);
    expect(reused).toBe(false);
    expect(features.train.rows).toBe(6);
    expect(features.validate.rows).toBe(2);
    expect(features.positiveRate).toBeCloseTo(3 / 6, 6); // delays 30, 20, 16 are > 15; 0, -5 and 15 are not
    expect(features.featureColumns.map((c) => c.name)).toContain('route_delay_rate');

    const [saturday, sunday] = await rowsOf(store.pathOf(features.validate.uri));
    // 2001-02-03 14:30 AAA→BBB, 500 miles. AAA had 2 late of 3 in January; AAA→BBB 1 of 2; BBB arrivals 1 of 2.
    expect(saturday.delayed).toBe(1);
    expect(saturday.hour_of_day).toBeCloseTo(14.5, 5);
    expect(saturday.day_of_week).toBe(6);
    expect(saturday.weekend).toBe(1);
    expect(saturday.log_distance).toBeCloseTo(Math.log(500), 5);
    expect(saturday.origin_delay_rate).toBeCloseTo((2 + 50 * 0.5) / (3 + 50), 6);
    expect(saturday.route_delay_rate).toBeCloseTo((1 + 25) / (2 + 50), 6);
    expect(saturday.destination_delay_rate).toBeCloseTo((1 + 25) / (2 + 50), 6);
    expect(saturday.hour_delay_rate).toBeCloseTo(0.5, 6); // no January flight at 14h: the overall rate
    expect(saturday.origin_log_traffic).toBeCloseTo(Math.log(4), 5);
    expect(saturday.origin_lat).toBeCloseTo(40.5, 5);
    expect(saturday.destination_lon).toBeCloseTo(-84.5, 5);
    // 2001-02-04 08:15 from DDD, never seen in January and not in the airports table.
    expect(sunday.delayed).toBe(0);
    expect(sunday.day_of_week).toBe(7);
    expect(sunday.origin_delay_rate).toBeCloseTo(0.5, 6);
    expect(sunday.origin_log_traffic).toBe(0);
    expect(sunday.origin_lat).toBe(0);
    expect(sunday.hour_delay_rate).toBeCloseTo(1, 6); // the one 08h January flight was late
  });

  it('does not let validation labels leak into the statistics', async () => {
    const before = await run(tinySpec('tiny'), store);
    const changed = fs.readFileSync(path.join(fixtures, 'tiny-flights.csv'), 'utf8').replace('2001-02-03 14:30:00,40', '2001-02-03 14:30:00,0');
    const file = path.join(store.root, 'changed-flights.csv');
    fs.writeFileSync(file, changed);
    const after = await run(tinySpec('tiny-changed', (s) => (s.sources.flights.path = file)), store);
    const [a] = await rowsOf(store.pathOf(before.features.validate.uri));
    const [b] = await rowsOf(store.pathOf(after.features.validate.uri));
    expect(b.delayed).toBe(0);
    expect(b.origin_delay_rate).toBe(a.origin_delay_rate);
    expect(b.route_delay_rate).toBe(a.route_delay_rate);
  });

  it('reuses the stored output when nothing changed', async () => {
    await run(tinySpec('tiny'), store);
    const again = await run(tinySpec('tiny'), store);
    expect(again.reused).toBe(true);
  });

  it('rejects a text feature column, naming it', async () => {
    const spec = tinySpec('tiny-text', (s) => (s.features.keys = ['date', 'destination']));
    await expectDataError(run(spec, store), 'features.sql: column `origin` is VARCHAR; model inputs must be numeric');
  });

  it('rejects NULL features, naming the column and the count', async () => {
    const spec = tinySpec('tiny-null', (s) => (s.features.sql = s.features.sql.replace('coalesce(ao.latitude, 0)', 'ao.latitude')));
    await expectDataError(run(spec, store), 'NULL, NaN or infinite values in split.validate: `origin_lat` (1 rows)');
  });

  it('rejects a label with one class in the training window', async () => {
    const spec = tinySpec('tiny-one-class', (s) => (s.label.sql = 'delay > 1000'));
    await expectDataError(run(spec, store), 'label.sql: the training window has only one class');
  });

  it('rejects NULL labels and a yes/no label that is not 0/1, counting the rows and showing the first', async () => {
    const nulls = tinySpec('tiny-null-label', (s) => (s.label.sql = 'CASE WHEN delay = 0 THEN NULL ELSE delay > 15 END'));
    await expectDataError(run(nulls, store), 'label.sql: 1 training rows have a NULL label; filter them in extract.query, or give them a value in label.sql (the first: NULL at date 2001-01-02 09:00:00)');
    const twos = tinySpec('tiny-two-label', (s) => (s.label.sql = 'CAST(delay > 15 AS INTEGER) * 2'));
    await expectDataError(run(twos, store), 'label.sql: 3 training rows have a label that is not 0/1 (the first: 2.0 at date 2001-01-02 08:00:00)');
  });

  it('takes a numeric label for a regression, its mean the baseline, and refuses a text, NULL or constant one', async () => {
    const regression = (name: string, label: string) =>
      tinySpec(name, (s) => {
        s.task = 'regression';
        s.trainer = { type: 'lightgbm' };
        s.gates = {};
        s.label.sql = label;
      });
    const { features } = await run(regression('tiny-regression', 'delay'), store);
    expect(features.positiveRate).toBeCloseTo((30 + 0 + 20 - 5 + 16 + 15) / 6, 6);
    const [first] = await rowsOf(store.pathOf(features.train.uri));
    expect(first.delayed).toBe(30);
    await expectDataError(run(regression('tiny-text-label', "CASE WHEN delay > 15 THEN 'late' ELSE 'on time' END"), store), 'label.sql: a regression label is a number, got VARCHAR (the first: "late"); cast it in label.sql, or set task: binary for a yes/no label');
    await expectDataError(run(regression('tiny-yes-no-label', 'delay > 15'), store), 'label.sql: a regression label is a number, got BOOLEAN (the first: "true")');
    await expectDataError(run(regression('tiny-null-number', 'CASE WHEN delay > 15 THEN NULL ELSE delay END'), store), 'label.sql: 3 training rows have a NULL label');
    await expectDataError(run(regression('tiny-constant', '7'), store), 'label.sql: every training label is 7; a regression needs labels that vary');
  });

  it('codes a multiclass label by the training window\'s classes, in the label\'s own order, and refuses each bad label with counts and the first row', async () => {
    const multiclass = (name: string, label: string) =>
      tinySpec(name, (s) => {
        s.task = 'multiclass';
        s.trainer = { type: 'lightgbm' };
        s.gates = {};
        s.label.sql = label;
        // The statistics and the week's history count late flights, whatever the label's classes.
        const late = (sql: string) => sql.replace(/delayed::(DOUBLE|INT)/g, '(delay > 15)::$1');
        s.features.stats = Object.fromEntries(Object.entries(s.features.stats ?? {}).map(([k, sql]) => [k, late(sql)]));
        s.features.sql = late(s.features.sql);
      });
    const bands = "CASE WHEN delay <= 0 THEN 'early' WHEN delay <= 15 THEN 'on time' ELSE 'late' END";
    const { features } = await run(multiclass('tiny-bands', bands), store);
    expect(features.classes).toEqual([{ name: 'early', rows: 2 }, { name: 'late', rows: 3 }, { name: 'on time', rows: 1 }]);
    expect(features.positiveRate).toBeCloseTo(3 / 6, 6); // the most frequent class's share
    // Delays 30, 0, 20, -5, 16, 15 by date: late, early, late, early, late, on time; validation 40, 0: late, early.
    expect((await rowsOf(store.pathOf(features.train.uri))).map((r) => r.delayed)).toEqual([1, 0, 1, 0, 1, 2]);
    expect((await rowsOf(store.pathOf(features.validate.uri))).map((r) => r.delayed)).toEqual([1, 0]);
    // Integers are ordered as numbers: 10 after 2.
    const numbered = await run(multiclass('tiny-numbered', 'CASE WHEN delay > 25 THEN 10 WHEN delay > 15 THEN 2 ELSE 1 END'), store);
    expect(numbered.features.classes?.map((c) => c.name)).toEqual(['1', '2', '10']);

    await expectDataError(run(multiclass('tiny-float-class', 'delay / 2'), store), 'label.sql: a multiclass label is text or an integer, got DOUBLE (the first: "15.0"); cast it in label.sql, or set task: regression for a number');
    await expectDataError(run(multiclass('tiny-null-class', "CASE WHEN delay > 15 THEN 'late' END"), store), 'label.sql: 3 training rows have a NULL label; filter them in extract.query, or give them a class in label.sql (the first at date 2001-01-02 09:00:00)');
    await expectDataError(run(multiclass('tiny-one-class', "'late'"), store), 'label.sql: the training window has only one class (every label is "late"); a classifier needs two or more');
    await expectDataError(
      run(multiclass('tiny-unseen-class', "CASE WHEN delay > 35 THEN 'very late' WHEN delay > 15 THEN 'late' ELSE 'on time' END"), store),
      'label.sql: 1 validation rows have a class the training window never saw (the first: "very late" at date 2001-02-03 14:30:00); the model knows "late", "on time": widen split.train to a window that has it, or map it to one of those in label.sql',
    );
    await expectDataError(
      run(multiclass('tiny-colliding-classes', "CASE WHEN delay > 15 THEN 'on time' WHEN delay > 0 THEN 'on-time' ELSE 'early' END"), store),
      'label.sql: the classes "on time" and "on-time" would both be written to the column p_on_time; rename one in label.sql',
    );
  });

  it('refuses a multiclass label of more than 100 classes, naming the most frequent', async () => {
    const err = await withDuckDB(async (c) => {
      await c.run("CREATE VIEW train AS SELECT 'k' || (range % 101) AS y, DATE '2001-01-01' + CAST(range AS INTEGER) AS date FROM range(150)");
      return trainingClasses(c, 'train', 'y', 'date').then(() => undefined, (e: unknown) => e);
    });
    expect((err as ApplicationFailure).message).toBe(
      'label.sql: the training window has 101 classes (the most frequent: "k0" (2 rows), "k1" (2 rows), "k10" (2 rows), "k11" (2 rows), "k12" (2 rows)); a multiclass label has at most 100: group the rare ones in label.sql, or set task: regression for a number',
    );
  });

  it('rejects a join that duplicates rows', async () => {
    const spec = tinySpec('tiny-dup', (s) => (s.features.sql = s.features.sql.replace('LEFT JOIN airports ao ON ao.iata = s.origin', 'LEFT JOIN airports ao ON true')));
    await expectDataError(run(spec, store), 'features.sql: returned 18 rows for 6 source rows in split.train');
  });

  it('names the spec field of a SQL error', async () => {
    const spec = tinySpec('tiny-sql', (s) => (s.features.sql = s.features.sql.replace('ln(s.distance)', 'ln(s.distanse)')));
    await expectDataError(run(spec, store), 'features.sql: column `distanse` does not exist in `s` (the rows of `source`); its columns, closest first: distance, ');
  });

  it('counts rows with a real DuckDB', async () => {
    const rows = await withDuckDB((c) => scalar(c, `SELECT count(*) FROM read_csv(${sqlString(path.join(fixtures, 'tiny-flights.csv'))})`));
    expect(Number(rows)).toBe(8);
  });
});
