import { ApplicationFailure, defineUpdate, isCancellation } from '@temporalio/workflow';
import { tuningActivities, summarized } from './activity-proxies';
import { durationSeconds } from '../contracts/budget';
import { sumCosts, zeroCost, type StepCost } from '../contracts/costs';
import { rootMessage } from '../contracts/root-cause';
import { bestTrial, better, budgetStop, outcomeLine, paramsLine, type ParamValue, type TrialRecord, type TuneSummary } from '../contracts/tuning';
import type { FeatureSet } from '../contracts/artifacts';
import type { LoadedSpec } from '../contracts/spec';
import type { Ledger } from './ledger';

/** `sluice tune stop <run>`: the search starts no further trial, and the run goes on with the best so far. */
export const stopTuningUpdate = defineUpdate<string, [{ actor: string }]>('stopTuning');

/** A search as the run's `progress` query shows it while it goes on. */
export interface TuneState {
  summary?: TuneSummary;
  /** Trials running now, by number. */
  running: Array<{ number: number; params: Record<string, ParamValue> }>;
  /** Set by `stopTuning`: who stopped the search. */
  stoppedBy?: string;
}

/**
 * The `tune:` search of a run. The workflow owns the study: it asks the sampler activity for each next
 * configuration with every finished (and running) trial, so each suggestion is in the history; it runs up to
 * `tune.parallel` trials at once, each a heartbeating, checkpointed, content-addressed activity (an identical
 * trial in a later run is reused); it books every trial in the ledger and starts none the budget cannot pay for.
 * A failed trial is recorded with its error and the search goes on; only a search whose every trial failed fails.
 */
export async function tuneSearch(loaded: LoadedSpec, features: FeatureSet, ledger: Ledger, state: TuneState, onChange: () => void = () => undefined): Promise<TuneSummary & { cost: StepCost }> {
  const { spec } = loaded;
  const tune = spec.tune as NonNullable<typeof spec.tune>;
  const space = tune.space as NonNullable<typeof tune.space>;
  const { sampler, trials } = tuningActivities(spec);
  const summary: TuneSummary = { metric: tune.metric, planned: tune.trials, trials: [], stopReason: '', cpuSeconds: 0 };
  state.summary = summary;
  const budget = {
    maxCpuSeconds: spec.budget?.max_cpu_seconds,
    maxTrainingSeconds: spec.budget?.max_training_time ? durationSeconds(spec.budget.max_training_time) : undefined,
  };
  const byNumber = () => [...summary.trials].sort((a, b) => a.number - b.number);
  let samplerCost = zeroCost();
  let asked = 0;
  let budgetReason: string | undefined;
  const running = new Map<number, Promise<TrialRecord>>();

  async function runTrial(number: number, params: Record<string, ParamValue>): Promise<TrialRecord> {
    const startedAt = new Date().toISOString();
    const pruning = tune.pruning === 'median' ? { finished: byNumber().flatMap((t) => (t.state === 'complete' && t.uri ? [t.uri] : [])) } : undefined;
    let record: TrialRecord;
    try {
      const out = await summarized(trials.tuneTrial, `trial ${number} of ${tune.trials}: ${paramsLine(params)}`, { loaded, features, params, metric: tune.metric, ...(pruning ? { pruning } : {}) });
      const { fingerprint: _fingerprint, bytes: _bytes, ...result } = out.trial;
      record = { number, params, ...result, reused: out.reused, cost: out.cost };
    } catch (err) {
      if (isCancellation(err)) throw err;
      record = { number, params, state: 'failed', reason: rootMessage(err), cost: attemptsCost(err) };
    }
    ledger.book(`trial ${number}`, record.cost, startedAt);
    if (better(tune.metric, record, summary.best)) summary.best = record;
    summary.trials.push(record);
    summary.cpuSeconds += record.cost.cpuSeconds;
    state.running = state.running.filter((r) => r.number !== number);
    onChange();
    return record;
  }

  for (;;) {
    while (running.size < tune.parallel && asked < tune.trials && !state.stoppedBy && !budgetReason) {
      const spent = { cpuSeconds: ledger.total.cpuSeconds, trainingSeconds: summary.trials.reduce((s, t) => s + t.cost.wallSeconds, 0) };
      budgetReason = budgetStop(budget, spent, summary.trials, running.size, summary.best);
      if (budgetReason) break;
      const suggestion = await sampler.suggestTrial({
        space,
        sampler: tune.sampler,
        seed: tune.seed,
        metric: tune.metric,
        // A pruned trial's record has its curve, which TPE reads; a complete one needs only its value.
        finished: byNumber().map((t) => ({ params: t.params, state: t.state, value: t.value, ...(t.state === 'pruned' && t.uri ? { uri: t.uri } : {}) })),
        running: state.running.map((r) => r.params),
      });
      samplerCost = sumCosts([samplerCost, suggestion.cost]);
      const number = ++asked;
      state.running.push({ number, params: suggestion.params });
      running.set(number, runTrial(number, suggestion.params));
      onChange();
    }
    if (running.size === 0) break;
    const done = await Promise.race(running.values());
    running.delete(done.number);
  }

  const failed = summary.trials.filter((t) => t.state === 'failed');
  if (!bestTrial(tune.metric, summary.trials)) {
    const first = failed.sort((a, b) => a.number - b.number)[0];
    throw ApplicationFailure.nonRetryable(`tune: none of the ${summary.trials.length} trials completed${first ? `; trial ${first.number} (${paramsLine(first.params)}) failed: ${first.reason}` : ''}`, 'SluiceDataError');
  }
  const ran = `${summary.trials.length} of ${tune.trials} trials ran`;
  summary.stopReason = state.stoppedBy ? `${ran}: stopped by ${state.stoppedBy}` : budgetReason ? `${ran}: ${budgetReason}` : ran;
  summary.trials = byNumber();
  onChange();
  return { ...summary, cost: samplerCost };
}

/** What a failed trial's attempts cost, from the failure's details (zero when it carries none). */
function attemptsCost(err: unknown): StepCost {
  const details = (err as { cause?: { details?: unknown[] } }).cause?.details ?? [];
  return details.find((d): d is { attemptsCost: StepCost } => typeof d === 'object' && d !== null && 'attemptsCost' in d)?.attemptsCost ?? zeroCost();
}

/** `12 of 30 trials, best holdout AUC 0.7712 (trial 7: learning_rate 0.05, leaves 127)`: the step's detail line. */
export function tuneDetail(summary: TuneSummary): string {
  const best = summary.best;
  const pruned = summary.trials.filter((t) => t.state === 'pruned').length;
  const failed = summary.trials.filter((t) => t.state === 'failed').length;
  const extra = [pruned ? `${pruned} pruned` : '', failed ? `${failed} failed` : ''].filter(Boolean).join(', ');
  return `${summary.trials.length} of ${summary.planned} trials${extra ? ` (${extra})` : ''}, best ${best ? `${outcomeLine(summary.metric, best)} (trial ${best.number}: ${paramsLine(best.params)})` : 'none'}`;
}
