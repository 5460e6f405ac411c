import { ApplicationFailure } from '@temporalio/common';
import { driftSchema } from '../../contracts/checks';
import { CATEGORIES_TABLE } from '../../contracts/spec';
import { withDuckDB } from '../sql/duckdb';
import { driftOutcomes, driftStride, FeatureBinner, featurePsi, profileFeatures } from './drift';

/** 1000 validation rows: `distance` 0 .. 999, `weekend` 0/1, `airport` coded 0 .. 11 (code k on 12 - k rows of each 78), NaN on 10 rows. */
const VALIDATION = `
  CREATE TABLE v AS SELECT i::FLOAT AS distance, (i % 7 >= 5)::FLOAT AS weekend,
    CASE WHEN i < 10 THEN 'nan'::FLOAT ELSE (i % 12)::FLOAT END AS airport
  FROM range(1000) t(i);
  CREATE TABLE ${CATEGORIES_TABLE} AS SELECT 'airport' AS "column", 'A' || code AS value, code::INTEGER AS code FROM range(12) t(code)`;

async function profiles() {
  return withDuckDB(async (c) => {
    await c.run(VALIDATION);
    return profileFeatures(c, 'v', ['distance', 'weekend', 'airport'], ['airport']);
  });
}

describe('per-feature drift', () => {
  it('profiles numeric features by their deciles and categorical ones by their top categories', async () => {
    const [distance, weekend, airport] = await profiles();
    expect(distance).toMatchObject({ kind: 'numeric', edges: [99, 199, 299, 399, 499, 599, 699, 799, 899] });
    expect(distance.counts).toEqual(new Array(10).fill(100));
    // Two values: one edge, two bins (and an empty one above).
    expect(weekend).toMatchObject({ kind: 'numeric', edges: [0, 1] });
    expect(weekend.counts[0] + weekend.counts[1]).toBe(1000);
    expect(airport.kind).toBe('categorical');
    expect(airport.codes).toHaveLength(10);
    expect(airport.labels?.[0]).toMatch(/^A\d+$/);
    // The 10 top categories, the other 2 categories, and 10 rows whose category training never saw.
    expect(airport.counts).toHaveLength(12);
    expect(airport.counts[11]).toBe(10);
    expect(airport.counts.reduce((a, b) => a + b, 0)).toBe(1000);
  });

  it('bins scored rows as the profile did: PSI 0 on the same rows, and large on a shifted feature', async () => {
    const profile = await profiles();
    const binner = new FeatureBinner(profile);
    const rows = 1000;
    const same = new Float32Array(rows * 3);
    const shifted = new Float32Array(rows * 3);
    for (let i = 0; i < rows; i++) {
      const airport = i < 10 ? NaN : i % 12;
      same.set([i, i % 7 >= 5 ? 1 : 0, airport], i * 3);
      shifted.set([i * 1.6, i % 7 >= 5 ? 1 : 0, airport], i * 3);
    }
    const counts = new Map<number, Float64Array>();
    binner.add(same, rows, 3, new Int32Array(rows).fill(0), counts);
    binner.add(shifted, rows, 3, new Int32Array(rows).fill(1), counts);
    const day0 = featurePsi(profile, counts.get(0) ?? []);
    const day1 = featurePsi(profile, counts.get(1) ?? []);
    expect(day0).toEqual({ distance: 0, weekend: 0, airport: 0 });
    expect(day1.distance).toBeGreaterThan(0.5);
    expect(day1.weekend).toBe(0);
    expect(day1.airport).toBe(0);
  });

  it('warns or stops on a day over its bound, naming the feature, the day and its PSI', () => {
    const days = [
      { day: '2001-06-20', featurePsi: { distance: 0.02, weekend: 0 } },
      { day: '2001-06-21', featurePsi: { distance: 0.91, weekend: 0.01 } },
    ];
    const warn = driftOutcomes(days, driftSchema.parse({ max_psi: 0.25 }), 'scoring flights 2001-06-20 .. 2001-06-21');
    expect(warn.map((o) => [o.column, o.status, o.failed])).toEqual([
      ['distance', 'warned', 1],
      ['weekend', 'passed', 0],
    ]);
    // A feature's own bound overrides max_psi.
    expect(driftOutcomes(days, driftSchema.parse({ max_psi: 0.25, features: { weekend: 0.005 } }), 'x').find((o) => o.column === 'weekend')?.status).toBe('warned');
    let error: unknown;
    try {
      driftOutcomes(days, driftSchema.parse({ features: { distance: 0.25 }, severity: 'error' }), 'scoring flights 2001-06-20 .. 2001-06-21');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).message).toBe(
      'scoring flights 2001-06-20 .. 2001-06-21: data checks failed (drift of 1 feature), so nothing of these days is published:\ndrift of `distance`: 2001-06-21: PSI 0.910, expected at most 0.25',
    );
  });
});

describe('profile bins at a float edge', () => {
  it('puts a value equal to an edge in the bin the scorer puts it in (edges compared as doubles, not decimals)', async () => {
    // sin of whole hours: many rows exactly on the deciles, which are float32 values.
    const profile = await withDuckDB(async (c) => {
      await c.run('CREATE TABLE v AS SELECT CAST(sin(2 * pi() * (i % 24) / 24) AS FLOAT) AS hour_sin FROM range(2400) t(i)');
      return profileFeatures(c, 'v', ['hour_sin'], []);
    });
    const x = Float32Array.from({ length: 2400 }, (_, i) => Math.sin((2 * Math.PI * (i % 24)) / 24));
    const counts = new Map<number, Float64Array>();
    new FeatureBinner(profile).add(x, 2400, 1, new Int32Array(2400), counts);
    expect(Array.from(counts.get(0) ?? [])).toEqual(profile[0].counts);
    expect(featurePsi(profile, counts.get(0) ?? [])).toEqual({ hour_sin: 0 });
  });
});

describe('a big day binned in a sample', () => {
  it('bins every row of a small day and one in k of a big one, with the same distribution', async () => {
    expect(driftStride([500, 20_000])).toBe(1);
    expect(driftStride([16_000, 17_000])).toBe(3);
    expect(driftStride([3_000_000])).toBe(8);
    const [distance] = await profiles();
    const rows = 4000;
    const x = Float32Array.from({ length: rows }, (_, i) => i % 1000);
    const counts = new Map<number, Float64Array>();
    new FeatureBinner([distance]).add(x, rows, 1, new Int32Array(rows), counts, 4);
    const binned = Array.from(counts.get(0) ?? []);
    expect(binned.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(featurePsi([distance], binned).distance).toBeLessThan(0.001);
  });
});
