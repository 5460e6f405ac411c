import type { CheckFailure } from '../../contracts/checks';

/** A day before or after `day` (`YYYY-MM-DD`). */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

/** A window's days in words: `2001-06-30`, or `2001-06-16 .. 2001-06-30`. */
export function dayRange(window: { from: string; to: string }): string {
  return window.from === window.to ? window.from : `${window.from} .. ${window.to}`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export interface TrailingResult {
  failures: CheckFailure[];
  /** Days compared with a trailing median. */
  checked: number;
  /** Days with too little history before them to compare (fewer than half the trailing days). */
  withoutHistory: string[];
}

/**
 * Each of `days` against the median row count of the `trailingDays` days before it, from `counts` (the rows per day
 * of this run's data and those earlier runs recorded; a day absent from it is no history). A day needs at least
 * half the trailing days (rounded up) to be compared; it fails when its rows are more than `withinPct` % away from
 * the median.
 */
export function trailingFailures(days: readonly string[], counts: ReadonlyMap<string, number>, trailingDays: number, withinPct: number): TrailingResult {
  const failures: CheckFailure[] = [];
  const withoutHistory: string[] = [];
  let checked = 0;
  for (const day of days) {
    const history: number[] = [];
    for (let k = 1; k <= trailingDays; k++) {
      const n = counts.get(addDays(day, -k));
      if (n !== undefined) history.push(n);
    }
    if (history.length < Math.ceil(trailingDays / 2)) {
      withoutHistory.push(day);
      continue;
    }
    checked++;
    const m = median(history);
    const rows = counts.get(day) ?? 0;
    const low = Math.ceil(m * (1 - withinPct / 100));
    const high = Math.floor(m * (1 + withinPct / 100));
    if (rows < low || rows > high) {
      const off = m > 0 ? ((rows - m) / m) * 100 : Infinity;
      failures.push({
        day,
        observed: `${rows} rows (${off >= 0 ? '+' : ''}${off.toFixed(1)} % against the trailing ${history.length} days' median ${m})`,
        bound: `${low} .. ${high} (within ${withinPct} % of the median)`,
      });
    }
  }
  return { failures, checked, withoutHistory };
}
