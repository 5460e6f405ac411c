import type { StepCost } from '../activities/cost';

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
