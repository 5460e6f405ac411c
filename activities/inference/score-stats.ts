import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../sql/duckdb';
import type { CalibrationBin } from '../../contracts/metrics';
import type { Task } from '../../contracts/tasks';
import { PREDICTED_CLASS, probabilityColumn } from '../../contracts/classes';


/** Equal-width bins of the score, [k/10, (k+1)/10), for the per-day score distribution. */
export const SCORE_BINS = 10;

/**
 * One scored day: rows, mean score (a regression's prediction, a multiclass model's probability of the predicted
 * class), and how many scores fell in each of the {@link SCORE_BINS} bins (a regression's: its validation deciles';
 * a multiclass model's: rows per predicted class, in its class order).
 */
export interface DayScores {
  day: string;
  rows: number;
  meanScore: number;
  bins: number[];
  /** Per categorical feature, the day's rows whose category training never saw (scored as missing); absent when none had one. */
  unseen?: Record<string, number>;
  /** Per feature, the PSI of the day's distribution against the model's validation window (absent without the model's profile). */
  featurePsi?: Record<string, number>;
}

/** The column a model's output is written to: a probability `score`, a regression's `prediction`, a multiclass model's `predicted_class` (with a probability column per class). */
export function outputColumn(task: Task): 'score' | 'prediction' | typeof PREDICTED_CLASS {
  return task === 'regression' ? 'prediction' : task === 'multiclass' ? PREDICTED_CLASS : 'score';
}

/** The output columns a multiclass model's rows get: its most probable class, and each class's probability. */
export function classColumnsSql(probabilities: string, classes: readonly string[]): string {
  const list = `[${classes.map(sqlString).join(', ')}]`;
  // The first most probable class on a tie, as the evaluation counts it.
  const predicted = `${list}[list_position(${probabilities}::FLOAT[], list_max(${probabilities}::FLOAT[]))] AS ${PREDICTED_CLASS}`;
  return [predicted, ...classes.map((c, k) => `${probabilities}[${k + 1}] AS ${probabilityColumn(c)}`)].join(', ');
}

/**
 * Per-day score statistics of the slices staged under `dir` (day-partitioned Parquet). A regression's
 * predictions (any number) are binned by `deciles`, the model's validation deciles (no bins without them).
 */
export async function dayScores(connection: DuckDBConnection, dir: string, task: Task = 'binary', deciles?: number[], classes?: readonly string[]): Promise<DayScores[]> {
  if (task === 'multiclass') return classDayScores(connection, dir, classes ?? []);
  const column = outputColumn(task);
  const binned = task !== 'regression' || (deciles?.length ?? 0) === SCORE_BINS - 1;
  const bin =
    task !== 'regression'
      ? `least(floor(score * ${SCORE_BINS}), ${SCORE_BINS - 1})::INTEGER`
      : binned
        ? `(${(deciles ?? []).map((edge) => `(prediction > ${Number(edge)}::DOUBLE)::INTEGER`).join(' + ')})`
        : '0';
  const reader = await connection.runAndReadAll(
    `SELECT strftime(day, '%Y-%m-%d') AS day, ${bin} AS bin, count(*)::INTEGER AS n, sum(${column})::DOUBLE AS total
     FROM read_parquet(${sqlString(`${dir}/**/*.parquet`)}, hive_partitioning = true) GROUP BY ALL ORDER BY day, bin`,
  );
  const days = new Map<string, DayScores & { total: number }>();
  for (const [day, bin, n, total] of reader.getRowsJS() as Array<[string, number, number, number]>) {
    const entry = days.get(day) ?? { day, rows: 0, meanScore: 0, total: 0, bins: new Array<number>(SCORE_BINS).fill(0) };
    entry.rows += n;
    entry.total += total;
    entry.bins[bin] += n;
    days.set(day, entry);
  }
  return [...days.values()].map(({ total, ...d }) => ({ ...d, meanScore: total / d.rows, ...(binned ? {} : { bins: [] }) }));
}

/** A multiclass model's scored days: rows per predicted class (in `classes`' order), and the mean probability of the predicted class. */
async function classDayScores(connection: DuckDBConnection, dir: string, classes: readonly string[]): Promise<DayScores[]> {
  const top = `greatest(${classes.map(probabilityColumn).join(', ')})`;
  const reader = await connection.runAndReadAll(
    `SELECT strftime(day, '%Y-%m-%d') AS day, list_position([${classes.map(sqlString).join(', ')}], ${PREDICTED_CLASS}) - 1 AS bin, count(*)::INTEGER AS n, sum(${top})::DOUBLE AS total
     FROM read_parquet(${sqlString(`${dir}/**/*.parquet`)}, hive_partitioning = true) GROUP BY ALL ORDER BY day, bin`,
  );
  const days = new Map<string, DayScores & { total: number }>();
  for (const [day, bin, n, total] of reader.getRowsJS() as Array<[string, number, number, number]>) {
    const entry = days.get(day) ?? { day, rows: 0, meanScore: 0, total: 0, bins: new Array<number>(classes.length).fill(0) };
    entry.rows += n;
    entry.total += total;
    entry.bins[bin] += n;
    days.set(day, entry);
  }
  return [...days.values()].map(({ total, ...d }) => ({ ...d, meanScore: total / d.rows }));
}

/**
 * The validation window's score distribution in the same bins: from a classifier's calibration table (by each
 * bin's middle), a regression's validation rows per decile bin (`decileRows`), or a multiclass model's validation
 * rows per predicted class (`classRows`).
 */
export function referenceBins(calibration: CalibrationBin[] | undefined, decileRows?: number[], classRows?: number[]): number[] | undefined {
  if (classRows && classRows.length > 1) return classRows;
  if (decileRows?.length === SCORE_BINS) return decileRows;
  if (!calibration || calibration.length === 0) return undefined;
  const bins = new Array<number>(SCORE_BINS).fill(0);
  for (const b of calibration) bins[Math.min(SCORE_BINS - 1, Math.floor(((b.lower + b.upper) / 2) * SCORE_BINS))] += b.count;
  return bins;
}

/**
 * Population stability index of a day's score distribution against the reference: Σ (p − q) · ln(p / q)
 * over the bins, each share floored at 1e-4. Below 0.1 the usual reading is "no shift", 0.1–0.25
 * "moderate", above 0.25 "large".
 */
export function psi(bins: number[], reference: number[]): number {
  const share = (xs: number[]) => {
    const total = xs.reduce((a, b) => a + b, 0) || 1;
    return xs.map((x) => Math.max(1e-4, x / total));
  };
  const p = share(bins);
  const q = share(reference);
  return p.reduce((sum, pk, k) => sum + (pk - q[k]) * Math.log(pk / q[k]), 0);
}
