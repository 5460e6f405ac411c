import { patched, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { budgetLines, checkBudget, type Budget } from '../contracts/budget';
import { ledgerQuery, type CostLedger, type LedgerEntry } from '../contracts/ledger';
import { sumCosts, type StepCost } from '../contracts/costs';
import { SluiceCpuSeconds, SluiceRows } from '../contracts/search-attributes';

/**
 * Collects the cost of every step of a run, answers the `ledger` query, and enforces the spec's budget
 * before each step starts. The run's rows and CPU seconds go to search attributes when it ends.
 */
export class Ledger {
  readonly entries: LedgerEntry[] = [];
  rows = 0;
  budget?: Budget;
  pipeline?: string;
  stoppedBy?: string;

  constructor() {
    setHandler(ledgerQuery, () => this.snapshot());
  }

  get total(): StepCost {
    return sumCosts(this.entries.map((e) => e.cost));
  }

  /** Throws (and remembers why) when the run has spent its budget; call before starting `next`. */
  check(next: string): void {
    try {
      checkBudget(this.budget, { cost: this.total, rows: this.rows }, next);
    } catch (err) {
      this.stoppedBy = (err as Error).message;
      throw err;
    }
  }

  /** Checks the budget, runs a step and books its cost. */
  async measure<T extends { cost: StepCost }>(step: string, run: () => Promise<T>): Promise<T> {
    this.check(step);
    const startedAt = new Date().toISOString();
    const result = await run();
    this.book(step, result.cost, startedAt);
    return result;
  }

  /** Books what a failed step's attempts cost (carried in the failure's details), as `<step> (failed)`. */
  bookFailure(step: string, err: unknown): void {
    const details = (err as { cause?: { details?: unknown[] } }).cause?.details ?? [];
    const found = details.find((d): d is { attemptsCost: StepCost } => typeof d === 'object' && d !== null && 'attemptsCost' in d);
    if (found) this.book(`${step} (failed)`, found.attemptsCost, new Date().toISOString());
  }

  book(step: string, cost: StepCost, startedAt: string): void {
    this.entries.push({ step, cost, startedAt, finishedAt: new Date().toISOString() });
  }

  snapshot(): CostLedger {
    const total = this.total;
    // Training time is the train step's and every trial's of a search (budget.max_training_time counts both).
    const trainingEntries = this.entries.filter((e) => e.step === 'train' || /^trial \d+$/.test(e.step));
    const training = trainingEntries.length > 0 ? trainingEntries.reduce((sum, e) => sum + e.cost.wallSeconds, 0) : undefined;
    return {
      pipeline: this.pipeline,
      rows: this.rows,
      entries: this.entries,
      total,
      budget: this.budget,
      budgetLines: budgetLines(this.budget, { cost: total, rows: this.rows }, training),
      stoppedBy: this.stoppedBy,
    };
  }

  /** The run's rows and CPU seconds as search attributes (runs recorded before they existed skip this). */
  publishAttributes(): void {
    if (!patched('cost-search-attributes')) return;
    upsertSearchAttributes([
      { key: SluiceRows, value: this.rows },
      { key: SluiceCpuSeconds, value: Math.round(this.total.cpuSeconds * 1000) / 1000 },
    ]);
  }
}
