/**
 * Hyper-parameter search (`tune:`): the spec section, the trials a search records, and the pure rules the
 * workflow applies between trials (which trial is best, whether the budget allows another). The sampler and the
 * trials run on the Python worker; the workflow owns the study.
 */
import { z } from 'zod';
import type { StepCost } from './costs';
import { metricNamed, type MetricName } from './tasks';

/** Holdout metrics a search can optimize: a yes/no pipeline's AUC or log loss, a regression's RMSE or MAE. */
export const TUNE_METRICS = ['auc', 'log_loss', 'rmse', 'mae'] as const satisfies readonly MetricName[];
export type TuneMetric = (typeof TUNE_METRICS)[number];

/** A tuning metric's words and whether higher is better. */
function tuneMetric(metric: TuneMetric): { words: string; higher: boolean } {
  const info = metricNamed(metric);
  return { words: info?.words ?? metric, higher: info?.better === 'higher' };
}

/**
 * One parameter's range: `{float: [low, high]}`, `{int: [low, high]}` (either with `log: true`) or
 * `{choice: [a, b, …]}`. One object with exactly one kind, rather than a union, so a mistake is named precisely.
 */
export const paramRange = z
  .object({
    float: z.tuple([z.number(), z.number()]).optional().describe('[low, high], both included.'),
    int: z.tuple([z.number().int(), z.number().int()]).optional().describe('[low, high], both included, whole numbers.'),
    choice: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1).optional().describe('The values to choose from.'),
    log: z.boolean().optional().describe('Sample on a log scale (both bounds above 0): for rates, leaves, row counts.'),
  })
  .strict()
  .superRefine((range, ctx) => {
    const kinds = (['float', 'int', 'choice'] as const).filter((k) => range[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `expected exactly one of float: [low, high], int: [low, high] or choice: [a, b, …], got ${kinds.length === 0 ? 'none' : kinds.join(' and ')}` });
      return;
    }
    const pair = range.float ?? range.int;
    if (!pair) {
      if (range.log) ctx.addIssue({ code: 'custom', path: ['log'], message: 'a choice has no scale; `log` is for float and int ranges' });
      return;
    }
    const [low, high] = pair;
    if (low > high) ctx.addIssue({ code: 'custom', message: `the range's low bound ${low} is above its high bound ${high}` });
    if (range.log && low <= 0) ctx.addIssue({ code: 'custom', message: `a log range must stay above 0; this one reaches ${low} (raise the low bound, or drop \`log\`)` });
  });
export type ParamRange = z.infer<typeof paramRange>;
export type TuneSpace = Record<string, ParamRange>;

/** The spec's `tune:` section; `duration` is the spec's duration schema. */
export const tuneSchemaWith = (duration: z.ZodType<string, string>) =>
  z
    .object({
      trials: z.number().int().min(1).max(1000).default(20).describe('Configurations tried at most (fewer when the budget or an operator stops the search).'),
      parallel: z.number().int().min(1).max(64).default(1).describe("Trials at once, across every Python worker that polls the trainer's queue (a worker trains `SLUICE_PYTHON_SLOTS` at a time)."),
      metric: z.enum(TUNE_METRICS).default('auc').describe('What the search optimizes, measured on the holdout days of the training window (never the validation window).'),
      sampler: z.enum(['tpe', 'random']).default('tpe').describe("`tpe`: Optuna's TPESampler (random for the first 5 trials, then a model of what paid off); `random`: uniform sampling. Seeded: the same spec asks the same trials."),
      seed: z.number().int().min(0).default(7).describe("The sampler's seed."),
      pruning: z.enum(['none', 'median']).default('none').describe("`median`: stop a trial whose holdout loss at a checkpoint is worse than the median of the finished trials' at the same round (Optuna's MedianPruner, after 5 finished trials and 20 rounds)."),
      max_trial_time: duration.optional().describe('Wall time one trial may take, its attempts included; a trial that passes it is recorded as failed and the search goes on.'),
      space: z.record(z.string(), paramRange).optional().describe("The trainer settings searched, by name, each a range: `{float: [low, high]}`, `{int: [low, high]}` (either with `log: true` for a log scale, both bounds above 0) or `{choice: [a, b, …]}`. Left out, the trainer's default space (in its section above)."),
    })
    .strict()
    .superRefine((tune, ctx) => {
      if (tune.parallel > tune.trials) ctx.addIssue({ code: 'custom', path: ['parallel'], message: `${tune.parallel} trials at once is more than the ${tune.trials} trials of the search` });
    });
export type TuneSpec = z.infer<ReturnType<typeof tuneSchemaWith>>;

export type ParamValue = number | string | boolean;
export type TrialState = 'complete' | 'pruned' | 'failed';

/** One trial as the search records it. */
export interface TrialRecord {
  /** 1, 2, … in the order the trials were asked. */
  number: number;
  params: Record<string, ParamValue>;
  state: TrialState;
  /** The metric on the holdout days (complete trials). */
  value?: number;
  holdout?: { auc: number; logLoss: number } | { rmse: number; mae: number };
  /** Rounds early stopping chose, and rounds boosted. */
  bestIteration?: number;
  iterations?: number;
  /** The round an attempt resumed after, from the trial's checkpoint (0: from scratch). */
  resumedFrom?: number;
  /** How its early stopping went (complete trials): the final train step's refit starts from the best trial's. */
  searched?: { iterations: number; bestIteration: number; trainLoss: number; validationLoss: number; stopReason: string };
  /** The trial's record in the artifact store (content-addressed): with its holdout loss at each checkpoint, which pruning and the sampler read. */
  uri?: string;
  /** Why it was pruned, or how it failed. */
  reason?: string;
  reused?: boolean;
  cost: StepCost;
}

/** What a search found, and why it stopped. */
export interface TuneSummary {
  metric: TuneMetric;
  planned: number;
  trials: TrialRecord[];
  best?: TrialRecord;
  stopReason: string;
  cpuSeconds: number;
}

/** The sampler activity's input: the study as the workflow knows it. */
export interface SuggestInput {
  space: TuneSpace;
  sampler: 'tpe' | 'random';
  seed: number;
  metric: TuneMetric;
  finished: Array<Pick<TrialRecord, 'params' | 'state' | 'value' | 'uri'>>;
  running: Array<Record<string, ParamValue>>;
}

export const tuneMetricWords = (metric: TuneMetric): string => tuneMetric(metric).words;
export const higherIsBetter = (metric: TuneMetric): boolean => tuneMetric(metric).higher;

/** Whether `a` is a better trial than `b` for `metric` (complete trials only). */
export function better(metric: TuneMetric, a: TrialRecord, b: TrialRecord | undefined): boolean {
  if (a.state !== 'complete' || a.value === undefined) return false;
  if (!b || b.value === undefined) return true;
  return tuneMetric(metric).higher ? a.value > b.value : a.value < b.value;
}

/** The best complete trial, the first of equals. */
export function bestTrial(metric: TuneMetric, trials: readonly TrialRecord[]): TrialRecord | undefined {
  let best: TrialRecord | undefined;
  for (const trial of trials) if (better(metric, trial, best)) best = trial;
  return best;
}

/** `learning_rate 0.0512, leaves 127`: a trial's parameters in a summary line. */
export function paramsLine(params: Record<string, ParamValue>): string {
  return Object.entries(params)
    .map(([name, value]) => `${name} ${typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(3)) : String(value)}`)
    .join(', ');
}

/** `holdout AUC 0.7712`, `pruned at round 40`, `failed: …`: how a trial ended, in a line. */
export function outcomeLine(metric: TuneMetric, trial: TrialRecord): string {
  if (trial.state === 'complete') return `holdout ${tuneMetric(metric).words} ${trial.value?.toFixed(4)}${trial.reused ? ' (reused)' : ''}`;
  return trial.state === 'pruned' ? (trial.reason ?? 'pruned') : `failed: ${trial.reason ?? 'unknown error'}`;
}

/**
 * The search as the Web UI shows it in the run's details (markdown): a line per trial, e.g. `trial 7 of 30:
 * learning_rate 0.05, leaves 127 → holdout AUC 0.7710 (best so far)`, and the trials running now.
 */
export function searchDetails(summary: TuneSummary, running: ReadonlyArray<{ number: number; params: Record<string, ParamValue> }>): string {
  let best: TrialRecord | undefined;
  const lines = [...summary.trials]
    .sort((a, b) => a.number - b.number)
    .map((t) => {
      const leads = better(summary.metric, t, best);
      if (leads) best = t;
      return `- trial ${t.number} of ${summary.planned}: ${paramsLine(t.params)} → ${outcomeLine(summary.metric, t)}${leads ? ' (best so far)' : ''}`;
    });
  const now = running.map((r) => `- trial ${r.number} of ${summary.planned}: ${paramsLine(r.params)} → running`);
  return [`**Search** ${summary.trials.length} of ${summary.planned} trials done${summary.stopReason ? `; ${summary.stopReason}` : ''}`, [...lines, ...now].join('\n')].join('\n\n');
}

/** What the search may still spend: the spec budget's CPU seconds and training time, each if set. */
export interface TuneBudget {
  maxCpuSeconds?: number;
  maxTrainingSeconds?: number;
}

/** The final fit and the steps after it, against the trial they train: the refit reads every training day, and evaluation, the champion's and the report follow, all inside the budget. */
const FINAL_FIT_MARGIN = 1.5;

/**
 * Why no further trial may start (undefined: one may). A trial is not started when the run's spending so far,
 * the trials still running and this one (each estimated as the mean finished trial), and the final fit after the
 * search would pass a limit. The final fit trains the best configuration once (a refit starts from the best
 * trial's rounds; without refit the early-stopping fit is repeated): it is estimated as the best trial so far, or
 * the mean trial if that costs more (the next trial may become the best), times {@link FINAL_FIT_MARGIN}. Estimates come from the trials trained
 * in this run (reused ones cost next to nothing). The first trial always starts.
 */
export function budgetStop(budget: TuneBudget, spent: { cpuSeconds: number; trainingSeconds: number }, finished: readonly TrialRecord[], running: number, best?: TrialRecord): string | undefined {
  if (finished.length === 0) return undefined;
  // A reused trial cost next to nothing this time; a new one costs what the trials trained in this run did.
  const trained = finished.filter((t) => !t.reused);
  const basis = trained.length > 0 ? trained : finished;
  const check = (what: string, used: number, of: (c: StepCost) => number, limit: number | undefined, unit: string) => {
    if (limit === undefined) return undefined;
    const mean = basis.reduce((sum, t) => sum + of(t.cost), 0) / basis.length;
    const final = FINAL_FIT_MARGIN * Math.max(mean, best && !best.reused ? of(best.cost) : 0);
    if (used + (running + 1) * mean + final <= limit) return undefined;
    return `${what}: ${used.toFixed(1)} ${unit} used of ${limit}; another trial (about ${mean.toFixed(1)}) and the final fit (about ${final.toFixed(1)}) would pass it`;
  };
  return (
    check('budget.max_cpu_seconds', spent.cpuSeconds, (c) => c.cpuSeconds, budget.maxCpuSeconds, 'CPU seconds') ??
    check('budget.max_training_time', spent.trainingSeconds, (c) => c.wallSeconds, budget.maxTrainingSeconds, 'seconds of training')
  );
}
