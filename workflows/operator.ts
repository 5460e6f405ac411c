import type { Duration } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, condition, defineSignal, defineUpdate, isCancellation, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { BUDGET_EXCEEDED } from '../contracts/budget';
import { STALE_DECISION } from '../contracts/registry';

/** An operator's answer to a failed step. `step` limits it to one step; without it, it applies to every waiting step. */
export interface OperatorDecision {
  actor: string;
  reason?: string;
  step?: string;
}

/** After fixing the data or deploying fixed workers: run the failed step again. */
export const retrySignal = defineSignal<[OperatorDecision]>('retry');
/** Give up on the failed step and go on without it; refused for steps the spec does not let be skipped. */
export const skipSignal = defineSignal<[OperatorDecision]>('skip');
/** Stop the run. */
export const abortSignal = defineSignal<[OperatorDecision]>('abort');

export type OperatorAction = 'retry' | 'skip' | 'abort';

/** What an operator's update was applied to. */
export interface OperatorAnswer {
  action: OperatorAction;
  steps: string[];
}

/**
 * The same answers as updates: accepted or refused at once, with the reason (`sluice resume`, or
 * `temporal workflow update execute --name retry -w <run> --input '{"actor": "…"}'`). The signals remain.
 */
export const retryUpdate = defineUpdate<OperatorAnswer, [OperatorDecision]>('retry');
export const skipUpdate = defineUpdate<OperatorAnswer, [OperatorDecision]>('skip');
export const abortUpdate = defineUpdate<OperatorAnswer, [OperatorDecision]>('abort');

/** How long a failed step waits for an operator when the spec does not say (`on_failure.wait_timeout`). */
export const DEFAULT_WAIT_TIMEOUT = '7d';

/** A step that failed in a way retries could not cure and now waits for an operator. */
export interface AwaitingStep {
  step: string;
  error: string;
  errorType?: string;
  since: string;
  skippable: boolean;
}

/** What operators decided, for the run's record. */
export interface OperatorLogEntry {
  action: OperatorAction | 'refused-skip';
  step: string;
  actor: string;
  reason?: string;
  at: string;
}

/** Returned by {@link Operator.step} for a step an operator skipped. */
export const SKIPPED = Symbol('skipped');

/**
 * Thrown by a `beforeRetry` hook to start the run's steps over (from the first whose inputs changed):
 * the operator fixed the spec, and the fixed spec is `loaded`.
 */
export class RestartWith<T> extends Error {
  constructor(readonly loaded: T) {
    super('the spec changed; the run continues from the first step whose inputs changed');
    this.name = 'RestartWith';
  }
}

interface Waiting extends AwaitingStep {
  decision?: { action: OperatorAction; by: OperatorDecision };
}

/**
 * Keeps a run alive across step failures: a failed step (retries exhausted, or a non-retryable error)
 * waits — visibly, through `awaiting` and the status callback — for a `retry`, `skip` or `abort` signal.
 * Completed steps keep their results, so nothing that finished runs again.
 */
export class Operator {
  readonly waiting: Waiting[] = [];
  readonly log: OperatorLogEntry[] = [];

  /** Told of every failed attempt of a step (the run books what it cost). */
  onFailure?: (step: string, err: unknown) => void;

  /** Runs before a failed step is retried (the run re-reads its spec here); it may throw {@link RestartWith}. */
  beforeRetry?: (step: string) => Promise<void>;

  /** How long a failed step waits for an answer before the run fails (the spec's `on_failure.wait_timeout`). */
  waitTimeout: string = DEFAULT_WAIT_TIMEOUT;

  constructor(
    private readonly waitOnFailure: () => boolean,
    private readonly onChange: (awaiting: boolean) => void,
  ) {
    setHandler(retrySignal, (d) => void this.decide('retry', d));
    setHandler(skipSignal, (d) => void this.decide('skip', d));
    setHandler(abortSignal, (d) => void this.decide('abort', d));
    for (const [update, action] of [
      [retryUpdate, 'retry'],
      [skipUpdate, 'skip'],
      [abortUpdate, 'abort'],
    ] as const) {
      setHandler(update, (d) => this.decide(action, d), { validator: (d) => this.validate(action, d) });
    }
  }

  /** What waits for an operator now (for queries). */
  get awaiting(): AwaitingStep[] {
    return this.waiting.map(({ decision, ...rest }) => rest);
  }

  /** {@link step} for a step that cannot be skipped: its result, or it retries until it succeeds or is aborted. */
  async run<T>(step: string, run: () => Promise<T>): Promise<T> {
    const result = await this.step(step, run);
    if (result === SKIPPED) throw new Error(`step ${step} cannot be skipped`);
    return result;
  }

  /** Runs `run`; on failure waits for an operator and retries, skips (returns {@link SKIPPED}) or aborts. */
  async step<T>(step: string, run: () => Promise<T>, options: { skippable?: boolean } = {}): Promise<T | typeof SKIPPED> {
    for (let attempt = 0; ; attempt++) {
      try {
        // A failure of the hook itself (the fixed spec is still broken) waits for the operator again.
        if (attempt > 0) await this.beforeRetry?.(step);
        return await run();
      } catch (err) {
        this.onFailure?.(step, err);
        // A cancelled run is not a failed step: nothing to wait for.
        if (isCancellation(err) || !this.waitOnFailure() || !(err instanceof ActivityFailure)) throw err;
        const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
        // The budget is spent (a retry would spend more), or a decision went stale (a retry cannot make it fresh).
        if (cause?.type === BUDGET_EXCEEDED || cause?.type === STALE_DECISION) throw err;
        const entry: Waiting = {
          step,
          error: cause?.message ?? err.cause?.message ?? err.message,
          errorType: cause?.type ?? undefined,
          since: new Date(Date.now()).toISOString(),
          skippable: options.skippable ?? false,
        };
        this.waiting.push(entry);
        this.onChange(true);
        // Runs recorded before the wait had a limit waited without a timer.
        const answered = patched('operator-wait-timeout') ? await condition(() => entry.decision !== undefined, this.waitTimeout as Duration) : await condition(() => entry.decision !== undefined).then(() => true);
        this.waiting.splice(this.waiting.indexOf(entry), 1);
        this.onChange(this.waiting.length > 0);
        if (!answered) {
          throw ApplicationFailure.nonRetryable(
            `${workflowInfo().workflowType}: step ${step} failed and no operator answered within ${this.waitTimeout} (on_failure.wait_timeout); the step had failed with: ${entry.error}`,
            'SluiceOperatorTimeout',
          );
        }
        const { action, by } = entry.decision as NonNullable<Waiting['decision']>;
        if (action === 'skip') return SKIPPED;
        if (action === 'abort') {
          throw ApplicationFailure.nonRetryable(
            `${workflowInfo().workflowType} aborted by ${by.actor} at step ${step}${by.reason ? ` (${by.reason})` : ''}; the step had failed with: ${entry.error}`,
            'SluiceAborted',
          );
        }
      }
    }
  }

  /** Refuses an update that would do nothing, saying why: no step waits, or the step may not be skipped. */
  private validate(action: OperatorAction, by: OperatorDecision): void {
    const open = this.waiting.filter((w) => !w.decision);
    if (open.length === 0) throw new Error(`no step of ${workflowInfo().workflowId} waits for an operator`);
    const targets = by.step === undefined ? open : open.filter((w) => w.step === by.step);
    if (targets.length === 0) throw new Error(`step ${by.step} does not wait for an operator; waiting: ${open.map((w) => w.step).join(', ')}`);
    if (!by.actor) throw new Error('an answer needs an actor, for the run\'s record');
    if (action === 'skip' && !targets.some((w) => w.skippable)) {
      throw new Error(`the spec does not allow skipping ${targets.map((w) => w.step).join(', ')} (on_failure.skippable lists the steps that may be skipped)`);
    }
  }

  private decide(action: OperatorAction, by: OperatorDecision): OperatorAnswer {
    const at = new Date(Date.now()).toISOString();
    const steps: string[] = [];
    for (const entry of this.waiting) {
      if (entry.decision || (by.step !== undefined && by.step !== entry.step)) continue;
      if (action === 'skip' && !entry.skippable) {
        this.log.push({ action: 'refused-skip', step: entry.step, actor: by.actor, reason: 'the spec does not allow skipping this step', at });
        continue;
      }
      entry.decision = { action, by };
      this.log.push({ action, step: entry.step, actor: by.actor, reason: by.reason, at });
      steps.push(entry.step);
    }
    return { action, steps };
  }
}
