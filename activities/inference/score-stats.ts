import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../sql/duckdb';
import type { CalibrationBin } from '../../contracts/metrics';
import type { Task } from '../../contracts/tasks';


/** Equal-width bins of the score, [k/10, (k+1)/10), for the per-day score distribution. */
export const SCORE_BINS = 10;

/** One scored day: rows, mean score (or prediction), and how many scores fell in each of the {@link SCORE_BINS} bins (none for a regression). */
export interface DayScores {
  day: string;
  rows: number;
  meanScore: number;
  bins: number[];
  /** Per categorical feature, the day's rows whose category training never saw (scored as missing); absent when none had one. */
  unseen?: Record<string, number>;
}

/** The column a model's output is written to: a probability `score`, or a regression's `prediction`. */
export function outputColumn(task: Task): 'score' | 'prediction' {
  return task === 'regression' ? 'prediction' : 'score';
}

/**
 * Per-day score statistics of the slices staged under `dir` (day-partitioned Parquet). A regression's
 * predictions (any number) are binned by `deciles`, the model's validation deciles (no bins without them).
 */
export async function dayScores(connection: DuckDBConnection, dir: string, task: Task = 'binary', deciles?: number[]): Promise<DayScores[]> {
  const column = outputColumn(task);
  const binned = task !== 'regression' || (deciles?.length ?? 0) === SCORE_BINS - 1;
  const bin =
    task !== 'regression'
      ? `least(floor(score * ${SCORE_BINS}), ${SCORE_BINS - 1})::INTEGER`
      : binned
        ? `(${(deciles ?? []).map((edge) => `(prediction > ${Number(edge)})::INTEGER`).join(' + ')})`
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

/**
 * The validation window's score distribution in the same bins: from a classifier's calibration table (by each
 * bin's middle), or a regression's validation rows per decile bin (`decileRows`).
 */
export function referenceBins(calibration: CalibrationBin[] | undefined, decileRows?: number[]): number[] | undefined {
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
