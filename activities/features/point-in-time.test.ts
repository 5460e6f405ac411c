import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { pipelineSpec, writeSpec, type SpecInput } from '../../test/support/specs';
import { ArtifactStore } from '../storage/artifact-store';
import { sqlString, withDuckDB } from '../sql/duckdb';
import { extractWindow } from '../extract/extract';
import { buildFeatures } from './features';
import { sampleDays } from './point-in-time-check';
import { loadSpecFile, parseSpec } from '../spec/loader';
import { checkSpecSql } from '../spec/sql-check';

const WEATHER = path.resolve(__dirname, '..', '..', 'node_modules', 'vega-datasets', 'data', 'seattle-weather.csv');

/** The Seattle rain pipeline (lagged and rolling features, a label from the next day), changed by `change`. */
function rainSpec(name: string, change: (spec: SpecInput) => void = () => undefined): string {
  const spec = pipelineSpec('seattle-rain');
  spec.name = name;
  change(spec);
  return writeSpec(name, spec);
}

async function features(specFile: string, store: ArtifactStore) {
  const loaded = loadSpecFile(specFile);
  await checkSpecSql(loaded);
  const { extracted } = await extractWindow(store, { loaded, window: { from: loaded.spec.split.train.from, to: loaded.spec.split.validate.to } });
  return (await buildFeatures(store, { loaded, extracted })).features;
}

async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApplicationFailure)) throw new Error(`expected an ApplicationFailure, got ${String(err)}`);
  return err;
}

let store: ArtifactStore;
beforeEach(() => {
  store = new ArtifactStore(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-pit-')));
});

describe('point-in-time windows', () => {
  it('reads the lookback before each split, and drops (and counts) rows whose label horizon passes the end of the data', async () => {
    const set = await features(rainSpec('rain'), store);
    // 2015 has 365 days; the last one has no tomorrow in the data, so it has no label and is left out.
    expect(set.horizonDropped).toEqual({ train: 0, validate: 1 });
    expect(set.validate.rows).toBe(364);
    expect(set.train.rows).toBe(1096);

    // The first validation day's history comes from the last days of 2014, as if the series were never split.
    const [first, lastTrain] = await withDuckDB(async (c) => {
      const csv = `read_csv(${sqlString(WEATHER)}, header = true)`;
      const expected = await c.runAndReadAll(
        `SELECT sum(precipitation)::DOUBLE, sum((precipitation > 0)::INT)::DOUBLE FROM ${csv} WHERE date BETWEEN DATE '2014-12-26' AND DATE '2015-01-01'`,
      );
      const got = await c.runAndReadAll(
        `SELECT precipitation_7d::DOUBLE, rainy_days_7d::DOUBLE, rain_tomorrow FROM read_parquet(${sqlString(store.pathOf(set.validate.uri))}) WHERE date = DATE '2015-01-01'`,
      );
      // The training split's last label reads the first day of 2015 (the horizon after the split).
      const label = await c.runAndReadAll(
        `SELECT t.rain_tomorrow, (SELECT (precipitation > 0)::FLOAT FROM ${csv} WHERE date = DATE '2015-01-01') FROM read_parquet(${sqlString(store.pathOf(set.train.uri))}) t WHERE t.date = DATE '2014-12-31'`,
      );
      return [{ expected: expected.getRowsJS()[0].map(Number), got: got.getRowsJS()[0].map(Number) }, label.getRowsJS()[0].map(Number)];
    });
    expect(first.got[0]).toBeCloseTo(first.expected[0], 4);
    expect(first.got[1]).toBe(first.expected[1]);
    expect(first.expected[1]).toBeGreaterThan(0);
    expect(lastTrain[0]).toBe(lastTrain[1]);
  });

  it('refuses features that read the label of rows not yet known (leakage), naming the column', async () => {
    const leaky = rainSpec('rain-leak', (s) => {
      s.features.sql = s.features.sql.replace('s.wind,', 's.wind, avg(s.rain_tomorrow::INT) OVER last_7_days AS rain_rate_7d,');
    });
    const err = await failure(features(leaky, store));
    expect(err.type).toBe('SluiceSpecError');
    expect(err.message).toMatch(/features\.sql reads the label or data after a row's time: on 2015-01-01, column rain_rate_7d \(1 of 1 rows\) changes when the rows after that day/);
  });

  it('refuses a keyed window that includes the same day (its delays are not known yet)', async () => {
    const flights = pipelineSpec('flights');
    flights.name = 'flights-same-day';
    flights.split = { train: { from: '2001-01-01', to: '2001-01-14' }, validate: { from: '2001-01-15', to: '2001-01-16' } };
    flights.features.sql = flights.features.sql.replace('AND INTERVAL 1 DAY PRECEDING', 'AND CURRENT ROW');
    const err = await failure(features(writeSpec('flights-same-day', flights), store));
    expect(err.type).toBe('SluiceSpecError');
    expect(err.message).toMatch(/on 2001-01-15, column origin_delay_rate_7d \(\d+ of \d+ rows\) changes when the rows after that day and the labels not yet known/);
  });

  it('refuses features that read further back than features.lookback', async () => {
    const err = await failure(features(rainSpec('rain-short', (s) => void (s.features.lookback = '2d')), store));
    expect(err.type).toBe('SluiceSpecError');
    expect(err.message).toMatch(/features\.sql reads further back than features\.lookback \(1 of 1 rows differ in column precipitation_7d, and 2 more columns on 2015-01-01 when 4d of history is read instead of 2d\)/);
  });

  it('samples the first, middle and last validation days', () => {
    expect(sampleDays({ from: '2015-01-01', to: '2015-12-31' })).toEqual(['2015-01-01', '2015-07-02', '2015-12-31']);
    expect(sampleDays({ from: '2001-06-01', to: '2001-06-01' })).toEqual(['2001-06-01']);
  });
});

describe('time-dependent SQL must say how far it reads', () => {
  const check = (spec: string) => failure(checkSpecSql(loadSpecFile(spec)));

  it('refuses a window function in features.sql without features.lookback', async () => {
    const err = await check(rainSpec('rain-no-lookback', (s) => void delete s.features.lookback));
    expect(err.type).toBe('SluiceSpecError');
    expect(err.message).toMatch(/: features\.lookback: is required because features\.sql uses the window function lag\(\), which reads other rows; set features\.lookback to .*`lookback: 7d`/);
  });

  it('refuses lead() in label.sql without label.horizon', async () => {
    const err = await check(rainSpec('rain-no-horizon', (s) => void delete s.label.horizon));
    expect(err.message).toMatch(/: label\.horizon: is required because label\.sql uses lead\(\), which reads the rows after each row; set label\.horizon .*`horizon: 1d`/);
  });

  it('refuses lead() in features.sql: a feature may read only the past', async () => {
    const err = await check(rainSpec('rain-lead-feature', (s) => void (s.features.sql = s.features.sql.replace('s.wind,', 's.wind, lead(s.wind) OVER day_by_day AS wind_tomorrow,'))));
    expect(err.message).toMatch(/: features\.sql: uses lead\(\), which reads rows after each row's time/);
  });

  it.each([
    ['features', 'lookback', '-7d'],
    ['features', 'lookback', 'a week'],
    ['label', 'horizon', '1.5d'],
  ])('refuses %s.%s: %s with what to write', (section, field, value) => {
    const text = fs.readFileSync(rainSpec(`rain-span-${field}`), 'utf8').replace(new RegExp(`${field}: \\S+`), `${field}: ${value}`);
    let message = '';
    try {
      parseSpec(text, 'rain.yaml');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(new RegExp(`^rain\\.yaml:\\d+: ${section}\\.${field}: expected a whole number of seconds \\(s\\), minutes \\(m\\), hours \\(h\\) or days \\(d\\), such as \\d+d or 0d`));
    expect(message).toContain(`got ${JSON.stringify(value)}`);
  });
});
