import fs from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { sumCosts, type StepCost } from '../../contracts/costs';
import { safePathSegment as safe, writeFileAtomically } from '../storage/artifact-store';


/** What a failed activity's failure carries in its details: every attempt's cost so far. */
export interface FailedAttemptsDetail {
  attemptsCost: StepCost;
}

/**
 * Counts what failed attempts cost. A failed attempt's wall and CPU time (and peak memory) are written to
 * a small file under `<artifacts>/attempts/`, keyed by the activity (the same for every attempt of it); the
 * attempt that finally succeeds adds them to the cost it returns (with `attempts`), and a failure carries
 * the sum in its details, so the run's ledger and budget count every attempt, not only the last.
 */
export class AttemptCostInterceptor implements ActivityInboundCallsInterceptor {
  constructor(private readonly root: string) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const { workflowExecution, activityId } = Context.current().info;
    const file = path.join(this.root, 'attempts', safe(workflowExecution?.workflowId ?? 'none'), safe(workflowExecution?.runId ?? 'none'), `${safe(activityId)}.json`);
    const earlier = readCosts(file);
    const startWall = process.hrtime.bigint();
    const startCpu = process.cpuUsage();
    try {
      const result = await next(input);
      if (earlier.length > 0 && hasCost(result)) result.cost = { ...sumCosts([result.cost, ...earlier]), attempts: earlier.length + 1 };
      fs.rmSync(file, { force: true });
      return result;
    } catch (err) {
      if (err instanceof CancelledFailure) throw err;
      const cpu = process.cpuUsage(startCpu);
      const cost: StepCost = {
        wallSeconds: Number(process.hrtime.bigint() - startWall) / 1e9,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        peakRssBytes: process.memoryUsage.rss(),
        rowsIn: 0,
        rowsOut: 0,
        bytesIn: 0,
        bytesOut: 0,
      };
      const all = [...earlier, cost];
      const final = err instanceof ApplicationFailure && err.nonRetryable;
      if (final) fs.rmSync(file, { force: true });
      else writeFileAtomically(file, JSON.stringify(all));
      throw withAttemptsCost(err, { ...sumCosts(all), attempts: all.length });
    }
  }
}

/** The same failure (message, type, retryability) with the attempts' cost added to its details. */
function withAttemptsCost(err: unknown, attemptsCost: StepCost): unknown {
  const detail: FailedAttemptsDetail = { attemptsCost };
  if (err instanceof ApplicationFailure) {
    const failure = ApplicationFailure.create({ message: err.message, type: err.type ?? undefined, nonRetryable: err.nonRetryable ?? undefined, details: [...(err.details ?? []), detail], cause: err.cause });
    failure.stack = err.stack;
    return failure;
  }
  if (err instanceof Error) {
    const failure = ApplicationFailure.create({ message: err.message, type: err.name, details: [detail] });
    failure.stack = err.stack;
    return failure;
  }
  return err;
}

function hasCost(value: unknown): value is { cost: StepCost } {
  return typeof value === 'object' && value !== null && typeof (value as { cost?: unknown }).cost === 'object';
}

function readCosts(file: string): StepCost[] {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as StepCost[];
  } catch {
    return [];
  }
}
