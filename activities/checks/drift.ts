import type { DuckDBConnection } from '@duckdb/node-api';
import { CHECKS_FAILED, psiBound, type CheckOutcome, type DriftSpec, type FeatureProfile } from '../../contracts/checks';
import { dataError } from '../../contracts/errors';
import { CATEGORIES_TABLE } from '../../contracts/spec';
import { sqlIdent, sqlString } from '../sql/duckdb';
import { windowFeaturesSql } from '../features/point-in-time';
import type { LoadedSpec } from '../../contracts/spec';
import { psi } from '../inference/score-stats';

/** Deciles: the numeric bins' edges. */
const QUANTILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/** Categories of a categorical feature with a bin of their own; the rest share one. */
const TOP_CATEGORIES = 10;

/**
 * Each feature's distribution on the validation split (`parquet`, features as stored: categories coded, NaN where
 * training never saw one): decile bins of a numeric feature, the most frequent categories of a categorical one.
 */
export async function profileFeatures(connection: DuckDBConnection, parquet: string, features: readonly string[], categorical: readonly string[], dayLevel: readonly string[] = []): Promise<FeatureProfile[]> {
  const profiles: FeatureProfile[] = [];
  for (const name of features) {
    if (dayLevel.includes(name)) {
      profiles.push({ name, kind: categorical.includes(name) ? 'categorical' : 'numeric', counts: [], dayLevel: true });
      continue;
    }
    const x = sqlIdent(name);
    if (categorical.includes(name)) {
      const top = (await connection.runAndReadAll(`SELECT ${x}::INTEGER, count(*)::BIGINT FROM ${parquet} WHERE NOT isnan(${x}) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ${TOP_CATEGORIES}`)).getRowsJS();
      const codes = top.map((r) => Number(r[0]));
      const [total, missing] = (await connection.runAndReadAll(`SELECT count(*)::BIGINT, count(*) FILTER (WHERE isnan(${x}))::BIGINT FROM ${parquet}`)).getRowsJS()[0].map(Number);
      const counts = top.map((r) => Number(r[1]));
      counts.push(total - missing - counts.reduce((a, b) => a + b, 0), missing);
      const dictionary = (await connection.runAndReadAll(`SELECT code, value FROM ${CATEGORIES_TABLE} WHERE "column" = ${sqlString(name)} ORDER BY code, value`)).getRowsJS();
      const labels = codes.map((code) => String(dictionary.find((d) => Number(d[0]) === code)?.[1] ?? code));
      profiles.push({ name, kind: 'categorical', codes, labels, counts });
    } else {
      const quantiles = (await connection.runAndReadAll(`SELECT quantile_disc(${x}, [${QUANTILES.join(', ')}])::DOUBLE[] FROM ${parquet}`)).getRowsJS()[0][0] as number[] | null;
      // Repeated deciles (a feature of few values) are one edge: its bins are then its values.
      const edges = [...new Set((quantiles ?? []).map(Number).filter(Number.isFinite))].sort((a, b) => a - b);
      // Each edge as a DOUBLE: written as a decimal literal, DuckDB compares exactly with the decimal, and a float
      // equal to the edge (0.9659258127212524 is 0.96592581272125244…) would land a bin higher than the scorer puts it.
      const bin = edges.length > 0 ? edges.map((e) => `(${x} > ${e}::DOUBLE)::INTEGER`).join(' + ') : '0';
      const rows = (await connection.runAndReadAll(`SELECT ${bin} AS bin, count(*)::BIGINT FROM ${parquet} GROUP BY 1`)).getRowsJS();
      const counts = new Array<number>(edges.length + 1).fill(0);
      for (const [b, n] of rows) counts[Number(b)] = Number(n);
      profiles.push({ name, kind: 'numeric', edges, counts });
    }
  }
  return profiles;
}

/**
 * The features constant within each day of the validation window that still vary between its days (the day of the
 * week, a holiday flag): one pass of features.sql over the validation window, on a connection whose `source` is it.
 */
export async function dayLevelFeatures(connection: DuckDBConnection, loaded: LoadedSpec, features: readonly string[], dataEnd: string | undefined): Promise<string[]> {
  if (features.length === 0) return [];
  const time = sqlIdent(loaded.spec.extract.time_column);
  const distinct = features.map((n) => `count(DISTINCT ${sqlIdent(n)})::BIGINT`).join(', ');
  const rows = windowFeaturesSql(loaded, loaded.spec.split.validate, dataEnd);
  // One pass: each day's distinct values, and (the grouping set without the day) the whole window's.
  const reader = await connection.runAndReadAll(`SELECT grouping(sluice_day)::INTEGER, ${distinct} FROM (SELECT CAST(${time} AS DATE) AS sluice_day, * FROM (${rows})) GROUP BY GROUPING SETS ((sluice_day), ())`);
  const groups = reader.getRowsJS().map((r) => r.map(Number));
  const overall = groups.find((g) => g[0] === 1) ?? [];
  const days = groups.filter((g) => g[0] === 0);
  return features.filter((_, i) => days.length >= 2 && Math.max(...days.map((d) => d[i + 1])) === 1 && overall[i + 1] >= 2);
}

/**
 * Bins the model's rows as they are scored: per feature position, the profile's bins laid end to end in one array
 * (`offsets[k]` is feature k's first bin). Float32 features compare with float64 edges as training's did.
 * Written by hand, feature by feature over a chunk's rows into one array per chunk: the scoring threads run it
 * beside the model, and a row-by-row loop over the profile objects cost 4.8 s per 3M rows × 18 features on one core
 * (this loop: 1.5 s, every row). So a big day is binned in a systematic sample (`stride`, {@link driftStride}).
 */
export class FeatureBinner {
  readonly offsets: number[] = [];
  readonly size: number;
  /** Per feature: a numeric one's edges, a categorical one's bin by code (-1: not a top category), or nothing (not binned). */
  private readonly edges: Array<Float64Array | undefined> = [];
  private readonly codeBins: Array<Int16Array | undefined> = [];
  /** Per categorical feature, its "other categories" bin (the "never seen in training" bin follows it). */
  private readonly otherBin: number[] = [];

  /** `profiles` in the model's feature order (a feature without one is not binned). */
  constructor(profiles: ReadonlyArray<FeatureProfile | undefined>) {
    let offset = 0;
    for (const p of profiles) {
      this.offsets.push(offset);
      const codes = p?.kind === 'categorical' ? (p.codes ?? []) : undefined;
      if (codes) {
        const bins = new Int16Array(Math.max(0, ...codes) + 1).fill(-1);
        codes.forEach((code, i) => (bins[code] = i));
        this.codeBins.push(bins);
        this.edges.push(undefined);
      } else {
        this.edges.push(p ? Float64Array.from(p.edges ?? []) : undefined);
        this.codeBins.push(undefined);
      }
      this.otherBin.push(codes?.length ?? 0);
      offset += p?.counts.length ?? 0;
    }
    this.size = offset;
  }

  /** Adds every `stride`-th of `n` rows of `width` features (row-major) to `counts`, one array per row's group (its day). */
  add(x: Float32Array, n: number, width: number, group: Int32Array, counts: Map<number, Float64Array>, stride = 1): void {
    if (n === 0) return;
    let low = group[0];
    let high = group[0];
    for (let r = stride; r < n; r += stride) {
      if (group[r] < low) low = group[r];
      if (group[r] > high) high = group[r];
    }
    const size = this.size;
    const acc = new Float64Array((high - low + 1) * size);
    const base = new Int32Array(n);
    for (let r = 0; r < n; r += stride) base[r] = (group[r] - low) * size;
    const step = stride * width;
    for (let k = 0; k < width; k++) {
      const off = this.offsets[k];
      const edges = this.edges[k];
      if (edges) {
        const m = edges.length;
        for (let r = 0, i = k; r < n; r += stride, i += step) {
          const v = x[i];
          let bin = 0;
          while (bin < m && v > edges[bin]) bin++;
          acc[base[r] + off + bin]++;
        }
        continue;
      }
      const codes = this.codeBins[k];
      if (!codes) continue;
      const top = codes.length;
      const other = this.otherBin[k];
      for (let r = 0, i = k; r < n; r += stride, i += step) {
        const v = x[i];
        // The top categories' bins, then "other", then "never seen in training" (NaN).
        const bin = v !== v ? other + 1 : v >= 0 && v < top && codes[v] >= 0 ? codes[v] : other;
        acc[base[r] + off + bin]++;
      }
    }
    for (let g = 0; g <= high - low; g++) {
      const part = acc.subarray(g * size, (g + 1) * size);
      if (!part.some((c) => c > 0)) continue;
      let into = counts.get(low + g);
      if (!into) counts.set(low + g, (into = new Float64Array(size)));
      for (let j = 0; j < size; j++) into[j] += part[j];
    }
  }
}

/** Rows of a day binned at least (PSI of an unchanged feature over ten bins is then about 9 / 4096 ≈ 0.002). */
const BINNED_ROWS = 4096;

/** The most rows a big day's sample skips between two binned rows. */
const MAX_STRIDE = 8;

/** Every how many rows a slice bins: all of a small day's, one in `stride` of days with many times {@link BINNED_ROWS}. */
export function driftStride(dayRows: readonly number[]): number {
  const fewest = Math.min(...dayRows);
  return Math.max(1, Math.min(MAX_STRIDE, Math.floor(fewest / BINNED_ROWS)));
}

/** Each feature's PSI on a day, from the day's bins laid end to end (as {@link FeatureBinner} counts them). */
export function featurePsi(profiles: ReadonlyArray<FeatureProfile | undefined>, counts: ArrayLike<number>): Record<string, number> {
  const found: Record<string, number> = {};
  let offset = 0;
  for (const p of profiles) {
    if (!p) continue;
    const day = Array.from({ length: p.counts.length }, (_, i) => counts[offset + i]);
    found[p.name] = Math.round(psi(day, p.counts) * 1e4) / 1e4;
    offset += p.counts.length;
  }
  return found;
}

/**
 * The days' feature PSIs against the spec's `drift:` bounds: the days over a bound as one outcome per feature, and
 * with `severity: error` a non-retryable data error naming the feature, the day and its PSI against the bound.
 */
export function driftOutcomes(days: ReadonlyArray<{ day: string; featurePsi?: Record<string, number> }>, drift: DriftSpec | undefined, where: string): CheckOutcome[] {
  if (!drift) return [];
  const features = [...new Set(days.flatMap((d) => Object.keys(d.featurePsi ?? {})))];
  const outcomes: CheckOutcome[] = [];
  for (const feature of features) {
    const bound = psiBound(drift, feature);
    if (bound === undefined) continue;
    const over = days
      .filter((d) => (d.featurePsi?.[feature] ?? 0) > bound)
      .sort((a, b) => (b.featurePsi?.[feature] ?? 0) - (a.featurePsi?.[feature] ?? 0))
      .map((d) => ({ day: d.day, observed: `PSI ${(d.featurePsi?.[feature] ?? 0).toFixed(3)}`, bound: `at most ${bound}` }));
    const highest = Math.max(...days.map((d) => d.featurePsi?.[feature] ?? 0));
    const status = over.length === 0 ? 'passed' : drift.severity === 'error' ? 'failed' : 'warned';
    outcomes.push({ name: `drift_${feature}`, kind: 'drift', on: 'features', severity: drift.severity, column: feature, status, observed: `PSI at most ${highest.toFixed(3)} over ${days.length} days`, failures: over.slice(0, 5), failed: over.length });
  }
  const failed = outcomes.filter((o) => o.status === 'failed');
  if (failed.length > 0) {
    const lines = failed.map((o) => `drift of \`${o.column}\`: ${o.failures.map((f) => `${f.day}: ${f.observed}, expected ${f.bound}`).join('; ')}${o.failed > o.failures.length ? `; and ${o.failed - o.failures.length} more days` : ''}`);
    throw dataError(`${where}: ${CHECKS_FAILED} (drift of ${failed.length} feature${failed.length === 1 ? '' : 's'}), so nothing of these days is published:\n${lines.join('\n')}`);
  }
  return outcomes;
}
