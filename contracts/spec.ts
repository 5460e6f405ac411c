import { z } from 'zod';
import type { PluginParams, SinkRoute, TrainerCode, TrainerRoute } from './plugins';
import { TUNE_METRICS, tuneSchemaWith } from './tuning';
import { checkSchema, driftSchema } from './checks';
import { METRIC_NAMES, metricNamed, metricOf, PRIMARY_METRIC, TASK_METRICS, TASKS, type MetricName, type Task } from './tasks';

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `Flight Date` → `flight_date`: the plain name an error suggests for a column that has none. */
export function plainName(name: string): string {
  const plain = name.trim().toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  return /^[a-z_]/.test(plain) ? plain : `c_${plain}`;
}

/**
 * A name Sluice uses unquoted as a column or table: letters, digits and `_`, not starting with a digit. A
 * column whose name has a space or other characters (`"Flight Date"`) is renamed where it comes from; `renameIn`
 * says where (`extract.query`, `features.sql`), and the error shows the exact rename.
 */
export const identifier = (renameIn?: string) =>
  z.string().superRefine((name, ctx) => {
    if (PLAIN_NAME.test(name)) return;
    const how = renameIn
      ? `rename the column in ${renameIn}, e.g. SELECT ${JSON.stringify(name)} AS ${plainName(name)}, …, and write ${plainName(name)} here`
      : `use a name such as ${plainName(name)}`;
    ctx.addIssue({ code: 'custom', message: `expected a plain SQL name (letters, digits and _, not starting with a digit); ${how}` });
  });
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date written YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'expected a real calendar date');
const duration = z.string().regex(/^\d+(ms|s|m|h|d)$/, 'expected a duration such as 30s, 15m, 2h or 1d');
/** A span of event time around a row (`features.lookback`, `label.horizon`): whole units, zero allowed. */
const timeSpan = (meaning: string, example: string) =>
  z.string().regex(/^\d+(s|m|h|d)$/, `expected a whole number of seconds (s), minutes (m), hours (h) or days (d), such as ${example} or 0d, with no sign or fraction (${meaning})`);

/** An inclusive date range: `from` and `to` are whole days. */
const window = z
  .object({ from: isoDate, to: isoDate })
  .strict()
  .refine((w) => w.from <= w.to, { message: '`from` must not be after `to`', path: ['to'] });

/** A source: a file (or `s3://` object) in one of the registered formats. */
const sourceWith = (format: z.ZodType<string, string>) =>
  z
    .object({
      path: z.string().min(1).describe('The file, relative to the spec (inside the data roots), or an `s3://bucket/key` object inside SLUICE_S3_ROOTS.'),
      format: format.optional().describe("The file's format; when left out, it follows from the file name (e.g. `.csv`), else Parquet."),
    })
    .strict();

const inferenceWith = (sink: z.ZodType<PluginSection, PluginSection>) =>
  z.object({
    shard_rows: z.number().int().min(1).default(1_000_000).describe("Consecutive days are grouped into shards of about this many rows; shards run in parallel."),
    slice_rows: z.number().int().min(1).default(1_000_000).describe("Rows scored and staged per statement inside a shard: the unit of resume (memory is bounded by DuckDB's chunks)."),
    max_parallel_shards: z.number().int().min(1).max(256).default(2).describe("Shards scored at once across all workers."),
    sink: sink.describe('Where scores are published: one of the registered sinks (below), with its settings; paths are relative to the spec.'),
  })
  .strict();

/** When a job runs: a cron expression or a fixed interval. */
const cadence = z
  .object({ cron: z.string().min(1).optional().describe('A cron expression, e.g. `0 3 * * 1`.'), every: duration.optional().describe('A fixed interval, e.g. `6h`.') })
  .strict()
  .refine((c) => (c.cron === undefined) !== (c.every === undefined), 'expected exactly one of `cron` or `every`');

/** Temporal Schedules for the pipeline: periodic training and daily inference of the newest partition. */
const schedule = z
  .object({
    train: cadence.optional().describe('When to retrain: `cron` or `every`.'),
    infer: cadence.optional().describe('When to score the newest day: `cron` or `every`.'),
    overlap: z.enum(['skip', 'buffer_one', 'buffer_all', 'cancel_other', 'terminate_other', 'allow_all']).default('skip').describe("What to do when a run is due while the previous one still runs."),
    catchup_window: duration.default('1d').describe("How late a missed run (server down) may still be started."),
    jitter: duration.default('0s').describe("Random delay added to each start, to spread load."),
    time_zone: z.string().default('UTC').describe('Time zone of the cron expressions (IANA name).'),
  })
  .strict();

/** The column a hash-split pipeline's rows are windowed by: the day its hash bucket stands for (see {@link hashSplitWindows}). */
export const SPLIT_DAY = 'sluice_split_day';

/** Buckets a hash split divides rows into: the validation share is a whole number of them (percent). */
export const HASH_BUCKETS = 100;

/** The day hash bucket 0 stands for; bucket b is this day + b. */
export const HASH_EPOCH = '2000-01-01';

/** A hash split as it is kept: which key columns, the seed, and the validation share. */
export interface HashSplit {
  keys: string[];
  seed: number;
  validate: number;
}

/**
 * A hash split as the day windows every step already reads: bucket b (of {@link HASH_BUCKETS}) is the day
 * {@link HASH_EPOCH} + b; the last `validate` share of the buckets are the validation window, the rest the training
 * window. So training, the trainers' holdout (the last buckets of the training window: a hash share of its rows),
 * evaluation and the shards of inference run on a hash split unchanged.
 */
export function hashSplitWindows(validate: number): { train: { from: string; to: string }; validate: { from: string; to: string } } {
  const day = (b: number) => new Date(Date.parse(`${HASH_EPOCH}T00:00:00Z`) + b * 86_400_000).toISOString().slice(0, 10);
  const first = HASH_BUCKETS - Math.round(validate * HASH_BUCKETS);
  return { train: { from: day(0), to: day(first - 1) }, validate: { from: day(first), to: day(HASH_BUCKETS - 1) } };
}

/** `split:` by time windows (`by: time` may be left out). */
const timeSplit = z
  .object({
    by: z.literal('time').optional().describe('`time` (the default): the training and validation windows below.'),
    train: window.describe('Inclusive whole days the model learns from.'),
    validate: window.describe('Inclusive whole days it is evaluated, gated and compared on; after the training window.'),
  })
  .strict()
  .transform(({ train, validate }) => ({ train, validate }));

/** `split:` by a hash of key columns: the same rows in the same split in every run, whatever their order. */
const hashSplit = z
  .object({
    by: z.literal('hash').describe('`hash`: each row goes to training or validation by a hash of its key columns, the same in every run.'),
    keys: z.array(identifier('extract.query')).min(1, 'expected at least one key column (an id)').describe('Columns that identify a row (an id), in the output of extract.query and of features.sql; rows with the same keys always fall on the same side.'),
    validate: z.number().min(0.01).max(0.5).multipleOf(0.01, 'expected a share in whole percent, such as 0.2').describe('The share of rows held out for validation, in whole percent (0.2: a fifth).'),
    seed: z.number().int().min(0).default(0).describe('Changes which rows fall on which side; the same seed, the same split.'),
  })
  .strict()
  .transform(({ keys, validate, seed }) => ({ ...hashSplitWindows(validate), hash: { keys, seed, validate } as HashSplit }));

/** The statistics table that holds the categorical features' dictionary (`column`, `value`, `code`), beside the spec's own. */
export const CATEGORIES_TABLE = 'sluice_categories';

/** Categories per categorical column when `features.max_categories` is left out. */
export const DEFAULT_MAX_CATEGORIES = 255;

/** A plug-in's section (a trainer, a sink) as code outside the plug-in sees it: its `type` and its settings. */
export type PluginSection = { type: string } & Record<string, unknown>;

/** Bounds on one validation metric (`gates.rmse: {max: 18}`); `min` at most `max`. */
const metricGate = z
  .object({ min: z.number().optional().describe('The least value allowed.'), max: z.number().optional().describe('The largest value allowed.') })
  .strict()
  .refine((g) => g.min !== undefined || g.max !== undefined, 'expected `min`, `max` or both')
  .refine((g) => g.min === undefined || g.max === undefined || g.min <= g.max, '`min` is above `max`');

/** `gates.<metric>` for every metric some task reports; the spec check refuses one its task does not. */
const metricGates = Object.fromEntries(
  METRIC_NAMES.map((name) => {
    const tasks = TASKS.filter((t) => metricOf(t, name));
    const info = metricNamed(name);
    return [name, metricGate.optional().describe(`Bounds on the validation ${info?.words ?? name} (${tasks.join(' and ')} pipelines; ${info?.better ?? 'higher'} is better).`)];
  }),
) as { [name in MetricName]: z.ZodOptional<typeof metricGate> };

/**
 * The pipeline spec: one YAML file that describes a batch-AI pipeline from source query to promotion.
 * Field names are snake_case as written in YAML. The trainer, the sink and the source formats are those of the
 * registered plug-ins ({@link buildSpecSchema}).
 */
const specSchemaWith = (trainer: z.ZodType<PluginSection, PluginSection>, sink: z.ZodType<PluginSection, PluginSection>, format: z.ZodType<string, string>) => {
  const source = sourceWith(format);
  const inference = inferenceWith(sink);
  return z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'expected a lower-case name (letters, digits, - and _)').describe('The pipeline, and the model registry it trains into: lower-case letters, digits, - and _.'),
    description: z.string().optional().describe('What the pipeline predicts, for people.'),
    task: z
      .enum(TASKS as unknown as [Task, ...Task[]])
      .optional()
      .describe('What the model predicts: `binary` (a yes/no label: a probability per row; the default), `regression` (a numeric label: a number per row) or `multiclass`. The trainer must take the task.'),
    sources: z.record(identifier(), source).refine((s) => Object.keys(s).length > 0, 'expected at least one source').describe('Named input files; each becomes a table or view of that name that spec SQL reads (`FROM flights`).'),
    extract: z
      .object({
        query: z.string().min(1).describe('One SELECT over the sources: the raw rows (one per event).'),
        time_column: identifier('extract.query').optional().describe('The column of event time windows select rows by (a date or timestamp); required unless the split is by hash.'),
      })
      .strict()
      .describe('What the pipeline reads.'),
    label: z
      .object({
        name: identifier().describe('The label column\'s name.'),
        sql: z.string().min(1).describe('An SQL expression over a row of the extract (window functions allowed with `horizon`): boolean or 0/1 for a `binary` task, a number for `regression`.'),
        horizon: timeSpan('how far after a row its label reads', '1d').optional().describe("How far after a row its label may read (e.g. `1d` for \"rain tomorrow\" with lead()); rows whose horizon passes the end of the data are dropped."),
      })
      .strict()
      .describe('What the model predicts.'),
    features: z
      .object({
        stats: z.record(identifier(), z.string().min(1)).default({}).describe('Named SQL tables computed only from `train` (the training window with its labels): target encodings, counts.'),
        sql: z.string().min(1).describe('One row per row of `source`; may join the statistics and the sources; must select the label and the time column (with a hash split, its keys) through. Every output column but the keys and the label is a numeric feature.'),
        keys: z.array(identifier('extract.query (or features.sql)')).default([]).describe('Output columns carried to the sink but not fed to the model.'),
        categorical: z
          .array(identifier('extract.query (or features.sql)'))
          .optional()
          .describe(
            'Output columns of features.sql (text or integers) that are categories, not numbers: coded by a dictionary learned from the training window alone (the most frequent first, at most `max_categories`; the rarer ones share one code; a category training never saw is missing, never an error) ; tree trainers split on them natively, the logistic trainer one-hots the most frequent (`trainer.one_hot_top`).',
          ),
        max_categories: z.number().int().min(1).max(10_000).optional().describe('Categories per categorical column at most (255 when left out); the rarer ones share one code.'),
        lookback: timeSpan('how much history before a row its features read', '7d').optional().describe("How much history before a row its features may read (window functions over time, e.g. `7d`); every window reads it."),
      })
      .strict()
      .describe('How each row\'s model inputs are computed, in DuckDB SQL.'),
    split: z
      .discriminatedUnion('by', [timeSplit, hashSplit])
      .describe('How rows are split into training and validation: by time windows (the default), or by a hash of key columns for data with no time column.'),
    trainer: trainer.describe('How the model is trained: one of the registered trainers (below), with its settings.'),
    tune: tuneSchemaWith(duration)
      .optional()
      .describe("A durable, budgeted hyper-parameter search before the train step: each trial fits on the training window's fit rows and is scored on its holdout days; the best configuration is then trained as `trainer:` says (refit included) and evaluated as usual."),
    evaluation: z
      .object({
        threshold: z.number().gt(0).lt(1).default(0.5).describe('Score from which a row counts as positive, for accuracy, precision and recall.'),
        calibration_bins: z.number().int().min(2).max(100).default(10).describe('Bins of the calibration table and chart.'),
        importance: z
          .object({
            rows: z.number().int().min(0).max(1_000_000).optional().describe('Validation rows sampled for permutation importance (default 5000; 0 turns it off). Under `budget.max_cpu_seconds` it is skipped when it would cost more than a third of what the budget leaves at evaluation.'),
            repeats: z.number().int().min(1).max(20).optional().describe('Shuffles of each feature, averaged (default 3).'),
            seed: z.number().int().min(0).optional().describe('Seed of the row sample and the shuffles (default 7).'),
          })
          .strict()
          .optional()
          .describe("Permutation importance on the validation window: each feature's values shuffled among a sample of rows, and how much the task's primary metric drops."),
      })
      .strict()
      .default({ threshold: 0.5, calibration_bins: 10 })
      .describe('How validation metrics are computed.'),
    gates: z
      .object({
        min_auc: z.number().min(0).max(1).optional().describe('Least validation AUC a candidate must reach to be promoted.'),
        max_log_loss: z.number().positive().optional().describe('Largest validation log loss a candidate may have.'),
        min_accuracy: z.number().min(0).max(1).optional().describe('Least validation accuracy at `evaluation.threshold`.'),
        beat_baseline: z.boolean().default(true).describe("The candidate must beat the trivial model on validation: a classifier's log loss below always predicting the training window's positive rate, a regression's RMSE below always predicting its mean label. A model that learned nothing is never promoted automatically."),
        ...metricGates,
      })
      .strict()
      .default({ beat_baseline: true })
      .describe('What a candidate must pass to be promoted.'),
    promotion: z
      .object({
        mode: z.enum(['auto', 'manual']).default('auto').describe('`auto`: an eligible candidate becomes the champion; `manual`: it becomes the challenger and the run waits for an approve or reject.'),
        metric: z.string().optional().describe("The metric the champion comparison uses (default: the task's own, `auc` for binary, `rmse` for regression, `log_loss` for multiclass); any metric the task reports, each compared in its own direction."),
        tolerance: z.number().min(0).default(0.005).describe('How much worse than the champion\'s (on the same rows, in `metric`\'s units) a candidate\'s metric may be and still be promoted.'),
        approval_timeout: duration.default('1d').describe('How long a manual promotion waits for a decision.'),
      })
      .strict()
      .default({ mode: 'auto', tolerance: 0.005, approval_timeout: '1d' })
      .describe('How an eligible candidate becomes the champion.'),
    checks: z
      .record(identifier(), checkSchema)
      .optional()
      .describe("Expectations on the extracted rows and the features, by name, checked before anything is trained (the run's days) or published (each scoring shard's days): NULLs, ranges, allowed values, unique keys, rows per day, and SQL that returns offending rows."),
    drift: driftSchema.optional().describe("Bounds on each scored day's per-feature drift (PSI against the model's validation window); the PSI is computed and reported without them too."),
    inference: inference.optional().describe('Batch scoring: shards, slices and the sink.'),
    schedule: schedule.optional().describe('Temporal Schedules that retrain and score the pipeline periodically (`sluice schedule apply`).'),
    execution: z
      .object({
        heartbeat_timeout: duration.default('1m').describe("A long step (training, a scoring shard) silent this long is presumed dead and retried from its last checkpoint."),
        train_task_queue: z.string().min(1).optional().describe("Task queue of the train step, e.g. `sluice-train` polled by big-memory workers (default: the run's own queue)."),
        score_task_queue: z.string().min(1).optional().describe("Task queue of the scoring shards (default: the run's own queue)."),
        python_task_queue: z.string().min(1).optional().describe("Task queue of the Python worker that trains the Python trainers' models (default `sluice-python`)."),
      })
      .strict()
      .default({ heartbeat_timeout: '1m' })
      .describe('Where and how the steps run.'),
    budget: z
      .object({
        max_cpu_seconds: z.number().positive().optional().describe("CPU seconds the run's activities may use, summed over every step (and attempt)."),
        max_rows: z.number().int().positive().optional().describe("Rows the run may read from its sources: extracted for training, planned for scoring."),
        max_training_time: duration.optional().describe("Wall time the train step may take, across its attempts."),
        max_attempts: z.number().int().min(1).max(100).optional().describe("Attempts per activity, the first included (default 5)."),
      })
      .strict()
      .optional()
      .describe('Limits the run enforces between steps (and training within its step).'),
    on_failure: z
      .object({
        wait_for_operator: z.boolean().default(true).describe("A failed step waits for an operator's retry / skip / abort instead of failing the run."),
        skippable: z.array(z.enum(['score-shard', 'checks'])).default([]).describe("Steps an operator may skip: `score-shard` (a shard's days are then not published), `checks` (a training run's failed data checks: it trains anyway, and the run keeps SluiceChecks=failed)."),
        wait_timeout: duration.default('7d').describe("How long a failed step waits for an operator before the run fails, naming the step."),
      })
      .strict()
      .default({ wait_for_operator: true, skippable: [], wait_timeout: '7d' })
      .describe('What a step that fails for good does.'),
  })
  .strict()
  .superRefine((spec, ctx) => {
    // zod runs this check on a spec whose split failed too (then left without its windows).
    if (spec.split?.train && spec.split.train.to >= spec.split.validate.from) {
      ctx.addIssue({ code: 'custom', path: ['split', 'validate', 'from'], message: 'the validation window must start after the training window ends' });
    }
    const hash = spec.split && 'hash' in spec.split ? spec.split.hash : undefined;
    if (spec.split?.train && !hash && spec.extract.time_column === undefined) {
      ctx.addIssue({ code: 'custom', path: ['extract', 'time_column'], message: 'is required: the column of event time the split windows select rows by (data with no time column is split by a hash of its keys: split: {by: hash, keys: [id], validate: 0.2})' });
    }
    if (hash) {
      const refuse = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
      if (spec.extract.time_column !== undefined) refuse(['extract', 'time_column'], 'a hash split reads no time column: leave it out, or split by time windows (split: {train: {from, to}, validate: {from, to}})');
      if (spec.features.lookback !== undefined) refuse(['features', 'lookback'], 'point-in-time windows do not apply to a hash split: its rows have no time, so features are computed from each row alone; leave lookback out, or split by time');
      if (spec.label.horizon !== undefined) refuse(['label', 'horizon'], 'point-in-time windows do not apply to a hash split: its rows have no time, so a label is computed from its own row; leave horizon out, or split by time');
      if (spec.on_failure.skippable.includes('score-shard')) refuse(['on_failure', 'skippable'], 'a hash-split pipeline publishes the whole source as one partition, so no shard of it can be skipped');
      for (const key of hash.keys) {
        if (key === spec.label.name) refuse(['split', 'keys'], `the label \`${key}\` cannot be a split key`);
      }
      for (const [name, check] of Object.entries(spec.checks ?? {})) {
        if (check.row_count) refuse(['checks', name, 'row_count'], 'a hash split has no days: row_count counts rows per day (its other checks look at the whole source)');
      }
    }
    for (const key of spec.features.keys) {
      if (key === spec.label.name) ctx.addIssue({ code: 'custom', path: ['features', 'keys'], message: `the label \`${key}\` cannot be a key` });
    }
    for (const column of spec.features.categorical ?? []) {
      if (column === spec.label.name || spec.features.keys.includes(column)) {
        ctx.addIssue({ code: 'custom', path: ['features', 'categorical'], message: `\`${column}\` is ${column === spec.label.name ? 'the label' : 'a key'}: a categorical feature is a model input` });
      }
    }
    const task: Task = spec.task ?? 'binary';
    for (const legacy of ['min_auc', 'max_log_loss', 'min_accuracy'] as const) {
      if (task !== 'binary' && spec.gates[legacy] !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['gates', legacy], message: `a ${task} pipeline is gated by its own metrics: gates.<metric>: {min, max}, one of ${TASK_METRICS[task].map((m) => m.name).join(', ')}` });
      }
    }
    const reported = TASK_METRICS[task].map((m) => m.name).join(', ');
    for (const name of METRIC_NAMES) {
      if (spec.gates[name] !== undefined && !metricOf(task, name)) {
        ctx.addIssue({ code: 'custom', path: ['gates', name], message: `a ${task} pipeline has no metric ${name}; it reports ${reported}` });
      }
    }
    if (spec.tune && !metricOf(task, spec.tune.metric)) {
      const searchable = TUNE_METRICS.filter((m) => metricOf(task, m)).join(' or ');
      ctx.addIssue({ code: 'custom', path: ['tune', 'metric'], message: `a ${task} pipeline has no metric ${spec.tune.metric}; its search optimizes ${searchable} (set tune.metric)` });
    }
    const compared = spec.promotion.metric ?? PRIMARY_METRIC[task];
    if (!metricOf(task, compared)) ctx.addIssue({ code: 'custom', path: ['promotion', 'metric'], message: `a ${task} pipeline has no metric ${compared}; it reports ${reported}` });
    if (CATEGORIES_TABLE in spec.features.stats) {
      ctx.addIssue({ code: 'custom', path: ['features', 'stats', CATEGORIES_TABLE], message: `the name ${CATEGORIES_TABLE} is Sluice's own (the categorical dictionary); choose another` });
    }
  })
  // A hash split's rows are windowed by the day of their bucket, a column Sluice adds (SPLIT_DAY).
  .transform((spec) => ({ ...spec, extract: { ...spec.extract, time_column: spec.extract.time_column ?? SPLIT_DAY } }));
};

/** The hash split of a spec, when it is split by hash. */
export function hashSplitOf(spec: { split: object }): HashSplit | undefined {
  return 'hash' in spec.split ? (spec.split.hash as HashSplit) : undefined;
}

/** The spec with every plug-in section loose: the shape code outside the plug-ins may rely on. */
export type SpecSchema = ReturnType<typeof specSchemaWith>;

/** The plug-ins a spec schema is assembled from: each one's section schema (a strict object with its `type` literal). */
export interface SpecPlugins {
  trainers: readonly PluginParams[];
  sinks: readonly PluginParams[];
  formats: readonly string[];
}

/**
 * The spec schema of the registered plug-ins: `trainer` and `inference.sink` are discriminated unions of their
 * section schemas (an unknown type is refused with the list of registered ones), `sources.*.format` one of
 * their names. Its output has the shape of the loose schema ({@link PipelineSpec}), more narrowly checked.
 */
export function buildSpecSchema(plugins: SpecPlugins): SpecSchema {
  const union = (sections: readonly PluginParams[], what: string) => {
    if (sections.length === 0) throw new Error(`no ${what} is registered`);
    return z.discriminatedUnion('type', sections as unknown as [PluginParams, ...PluginParams[]]);
  };
  const formats = z.enum(plugins.formats as [string, ...string[]]);
  return specSchemaWith(union(plugins.trainers, 'trainer') as unknown as z.ZodType<PluginSection, PluginSection>, union(plugins.sinks, 'sink') as unknown as z.ZodType<PluginSection, PluginSection>, formats) as unknown as SpecSchema;
}

export type PipelineSpec = z.infer<SpecSchema>;
/** A spec as written in YAML, before defaults are filled in. */
export type SpecInput = z.input<SpecSchema>;
export type DateWindow = PipelineSpec['split']['train'];
export type ScheduleSpec = NonNullable<PipelineSpec['schedule']>;

/** A validated spec, as a workflow records it in its history. */
export interface LoadedSpec {
  /** The spec file as the caller named it. */
  file: string;
  /** Folder that relative source paths are resolved from (the spec file's folder, as named). */
  baseDir: string;
  /** SHA-256 of the validated spec (comments and key order do not change it). */
  hash: string;
  spec: PipelineSpec;
  /** How the train step runs, from the trainer's descriptor (absent in runs recorded before routes: see LEGACY_ROUTES). */
  trainer?: TrainerRoute;
  /** The code the trainer runs, for a trainer that runs the spec's own (`trainer: {type: python, module}`). */
  code?: TrainerCode;
  /** How scores are published, for a sink that runs on the Python worker (absent: the TypeScript worker publishes). */
  sink?: SinkRoute;
}

/** A run's spec changed while it ran: an operator fixed it and retried the step that had failed. */
export interface SpecChange {
  /** The step whose retry read the fixed spec. */
  step: string;
  from: string;
  to: string;
  at: string;
}
