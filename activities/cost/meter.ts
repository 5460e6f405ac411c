import os from 'node:os';
import type { StepCost } from '../../contracts/costs';

/** This worker process as Temporal's SDK names it by default (the `identity` of the history's started events). */
export const WORKER_IDENTITY = `${process.pid}@${os.hostname()}`;

/** Counters an activity fills in while it works. */
export interface Meter {
  rowsIn: number;
  rowsOut: number;
  bytesIn: number;
  bytesOut: number;
}

/** Runs `work`, measuring wall time, CPU time and peak memory, and returns its result with the cost. */
export async function metered<T extends object>(work: (meter: Meter) => Promise<T>): Promise<T & { cost: StepCost }> {
  const meter: Meter = { rowsIn: 0, rowsOut: 0, bytesIn: 0, bytesOut: 0 };
  const startWall = process.hrtime.bigint();
  const startCpu = process.cpuUsage();
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 100);
  try {
    const result = await work(meter);
    const cpu = process.cpuUsage(startCpu);
    return {
      ...result,
      cost: {
        wallSeconds: Number(process.hrtime.bigint() - startWall) / 1e9,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        peakRssBytes: Math.max(peakRss, process.memoryUsage.rss()),
        ...meter,
        worker: WORKER_IDENTITY,
      },
    };
  } finally {
    clearInterval(sampler);
  }
}
