import { ApplicationFailure } from '@temporalio/common';
import type { PipelineSpec } from './spec';
import type { StepCost } from './costs';

/**
 * The spec's `budget:` and its enforcement. Pure code: the workflows check it between steps (so a run
 * that has spent its budget stops before the next step starts), the train activity checks its wall time
 * after every iteration.
 */
export type Budget = NonNullable<PipelineSpec['budget']>;

/** Failure type of a run stopped by its budget; never retried, never waits for an operator. */
export const BUDGET_EXCEEDED = 'SluiceBudgetExceeded';

/** The spec's budget; specs recorded before budgets existed have none. */
export function budgetOf(spec: PipelineSpec): Budget | undefined {
  return spec.budget as Budget | undefined;
}

export function budgetExceeded(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, BUDGET_EXCEEDED);
}

/** Seconds in a spec duration (`90s`, `15m`, `2h`, `1d`, `500ms`). */
export function durationSeconds(duration: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(duration);
  if (!match) throw new Error(`not a duration: ${duration}`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/** What a run has spent so far: the activities' costs and the rows it reads from its sources. */
export interface Spent {
  cost: StepCost;
  rows: number;
}

/** Stops the run, before `next` starts, when what it has spent passes the budget. */
export function checkBudget(budget: Budget | undefined, spent: Spent, next: string): void {
  if (!budget) return;
  if (budget.max_cpu_seconds !== undefined && spent.cost.cpuSeconds > budget.max_cpu_seconds) {
    throw budgetExceeded(
      `budget.max_cpu_seconds: the run has used ${spent.cost.cpuSeconds.toFixed(3)} CPU seconds, over its budget of ${budget.max_cpu_seconds}; stopped before ${next}`,
    );
  }
  if (budget.max_rows !== undefined && spent.rows > budget.max_rows) {
    throw budgetExceeded(`budget.max_rows: the run reads ${spent.rows} rows, over its budget of ${budget.max_rows}; stopped before ${next}`);
  }
}

/** The budget against what was spent, one line per limit set: `cpu seconds 1.20 of 600 (0.2%)`. */
export function budgetLines(budget: Budget | undefined, spent: Spent, trainingSeconds?: number): string[] {
  if (!budget) return [];
  const line = (what: string, used: number, limit: number, digits: number) => `${what} ${used.toFixed(digits)} of ${limit} (${((100 * used) / limit).toFixed(1)}%)`;
  const lines: string[] = [];
  if (budget.max_cpu_seconds !== undefined) lines.push(line('cpu seconds', spent.cost.cpuSeconds, budget.max_cpu_seconds, 2));
  if (budget.max_rows !== undefined) lines.push(line('rows', spent.rows, budget.max_rows, 0));
  if (budget.max_training_time !== undefined && trainingSeconds !== undefined) {
    lines.push(line('training seconds', trainingSeconds, durationSeconds(budget.max_training_time), 2));
  }
  if (budget.max_attempts !== undefined) lines.push(`attempts per step: at most ${budget.max_attempts}`);
  return lines;
}
