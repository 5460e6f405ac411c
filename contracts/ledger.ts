import { defineQuery } from '@temporalio/workflow';
import type { Budget } from './budget';
import type { StepCost } from './costs';

/** One measured step of a run: what its activity used, and when it ran (workflow time). */
export interface LedgerEntry {
  step: string;
  cost: StepCost;
  startedAt: string;
  finishedAt: string;
}

/** A run's cost ledger, as the `ledger` query answers it (and `sluice cost <run>` prints it). */
export interface CostLedger {
  pipeline?: string;
  /** Rows the run reads from its sources (extracted for training, planned for scoring). */
  rows: number;
  entries: LedgerEntry[];
  total: StepCost;
  budget?: Budget;
  /** The budget against what was spent, a line per limit. */
  budgetLines: string[];
  /** Set when the budget stopped the run. */
  stoppedBy?: string;
}

export const ledgerQuery = defineQuery<CostLedger>('ledger');

/** The worker processes that ran a run's steps (`pid@host`, as the history names them), each with its steps, in order of first appearance. */
export function workersOf(ledger: Pick<CostLedger, 'entries'>): Array<{ worker: string; steps: number }> {
  const steps = new Map<string, number>();
  for (const e of ledger.entries) if (e.cost.worker) steps.set(e.cost.worker, (steps.get(e.cost.worker) ?? 0) + 1);
  return [...steps].map(([worker, n]) => ({ worker, steps: n }));
}
