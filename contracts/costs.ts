

/** A cost of nothing (steps that only talk to Temporal). */
export function zeroCost(): StepCost {
  return { wallSeconds: 0, cpuSeconds: 0, peakRssBytes: 0, rowsIn: 0, rowsOut: 0, bytesIn: 0, bytesOut: 0 };
}

/** Sum of step costs: times, rows and bytes add up; peak memory is the highest peak. */
export function sumCosts(costs: StepCost[]): StepCost {
  return costs.reduce(
    (total, c) => ({
      wallSeconds: total.wallSeconds + c.wallSeconds,
      cpuSeconds: total.cpuSeconds + c.cpuSeconds,
      peakRssBytes: Math.max(total.peakRssBytes, c.peakRssBytes),
      rowsIn: total.rowsIn + c.rowsIn,
      rowsOut: total.rowsOut + c.rowsOut,
      bytesIn: total.bytesIn + c.bytesIn,
      bytesOut: total.bytesOut + c.bytesOut,
    }),
    zeroCost(),
  );
}

/** What one activity attempt used. Summed by the workflow into the run's ledger. */
export interface StepCost {
  wallSeconds: number;
  cpuSeconds: number;
  /** Highest resident set size of the worker process seen during the step. */
  peakRssBytes: number;
  rowsIn: number;
  rowsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** The worker process that ran the step, as Temporal names it in the history (`pid@host`); absent in sums. */
  worker?: string;
  /** Attempts counted in this cost, when more than one (failed attempts before the one that succeeded, or all that failed). */
  attempts?: number;
}
