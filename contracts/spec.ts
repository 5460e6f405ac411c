import { z } from 'zod';
import type { PluginParams, TrainerRoute } from './plugins';

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
      path: z.string().min(1),
      /** The file's format; when left out, it follows from the file name (e.g. `.csv`), else Parquet. */
      format: format.optional(),
    })
    .strict();

const inferenceWith = (sink: z.ZodType<PluginSection, PluginSection>) =>
  z.object({
    /** Consecutive days are grouped into shards of about this many rows; shards run in parallel. */
    shard_rows: z.number().int().min(1).default(1_000_000),
    /** Rows scored and staged per statement inside a shard: the unit of resume (memory is bounded by DuckDB's chunks). */
    slice_rows: z.number().int().min(1).default(1_000_000),
    /** Shards scored at once across all workers. */
    max_parallel_shards: z.number().int().min(1).max(256).default(2),
    /** Where scores are published (one of the registered sinks; paths are relative to the spec file). */
    sink,
  })
  .strict();

/** When a job runs: a cron expression or a fixed interval. */
const cadence = z
  .object({ cron: z.string().min(1).optional(), every: duration.optional() })
  .strict()
  .refine((c) => (c.cron === undefined) !== (c.every === undefined), 'expected exactly one of `cron` or `every`');

/** Temporal Schedules for the pipeline: periodic training and daily inference of the newest partition. */
const schedule = z
  .object({
    train: cadence.optional(),
    infer: cadence.optional(),
    /** What to do when a run is due while the previous one still runs. */
    overlap: z.enum(['skip', 'buffer_one', 'buffer_all', 'cancel_other', 'terminate_other', 'allow_all']).default('skip'),
    /** How late a missed run (server down) may still be started. */
    catchup_window: duration.default('1d'),
    /** Random delay added to each start, to spread load. */
    jitter: duration.default('0s'),
    time_zone: z.string().default('UTC'),
  })
  .strict();

/** A plug-in's section (a trainer, a sink) as code outside the plug-in sees it: its `type` and its settings. */
export type PluginSection = { type: string } & Record<string, unknown>;

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
    name: z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'expected a lower-case name (letters, digits, - and _)'),
    description: z.string().optional(),
    sources: z.record(identifier(), source).refine((s) => Object.keys(s).length > 0, 'expected at least one source'),
    extract: z
      .object({
        query: z.string().min(1),
        time_column: identifier('extract.query'),
      })
      .strict(),
    label: z
      .object({
        name: identifier(),
        sql: z.string().min(1),
        /** How far after a row its label may read (e.g. `1d` for "rain tomorrow" with lead()); rows whose horizon passes the end of the data are dropped. */
        horizon: timeSpan('how far after a row its label reads', '1d').optional(),
      })
      .strict(),
    features: z
      .object({
        stats: z.record(identifier(), z.string().min(1)).default({}),
        sql: z.string().min(1),
        keys: z.array(identifier('extract.query (or features.sql)')).default([]),
        /** How much history before a row its features may read (window functions over time, e.g. `7d`); every window reads it. */
        lookback: timeSpan('how much history before a row its features read', '7d').optional(),
      })
      .strict(),
    split: z.object({ train: window, validate: window }).strict(),
    /** How the model is trained: one of the registered trainers, with its settings. */
    trainer,
    evaluation: z
      .object({
        threshold: z.number().gt(0).lt(1).default(0.5),
        calibration_bins: z.number().int().min(2).max(100).default(10),
      })
      .strict()
      .default({ threshold: 0.5, calibration_bins: 10 }),
    gates: z
      .object({
        min_auc: z.number().min(0).max(1).optional(),
        max_log_loss: z.number().positive().optional(),
        min_accuracy: z.number().min(0).max(1).optional(),
        /**
         * The candidate's validation log loss must be below the trivial model's (always predicting the training
         * window's positive rate): a model that learned nothing is never promoted automatically.
         */
        beat_baseline: z.boolean().default(true),
      })
      .strict()
      .default({ beat_baseline: true }),
    promotion: z
      .object({
        mode: z.enum(['auto', 'manual']).default('auto'),
        tolerance: z.number().min(0).max(1).default(0.005),
        approval_timeout: duration.default('1d'),
      })
      .strict()
      .default({ mode: 'auto', tolerance: 0.005, approval_timeout: '1d' }),
    inference: inference.optional(),
    schedule: schedule.optional(),
    execution: z
      .object({
        /** A long step (training, a scoring shard) silent this long is presumed dead and retried from its last checkpoint. */
        heartbeat_timeout: duration.default('1m'),
        /** Task queue of the train step, e.g. `sluice-train` polled by big-memory workers (default: the run's own queue). */
        train_task_queue: z.string().min(1).optional(),
        /** Task queue of the scoring shards (default: the run's own queue). */
        score_task_queue: z.string().min(1).optional(),
        /** Task queue of the Python worker that trains LightGBM models (default `sluice-python`). */
        python_task_queue: z.string().min(1).optional(),
      })
      .strict()
      .default({ heartbeat_timeout: '1m' }),
    budget: z
      .object({
        /** CPU seconds the run's activities may use, summed over every step (and attempt). */
        max_cpu_seconds: z.number().positive().optional(),
        /** Rows the run may read from its sources: extracted for training, planned for scoring. */
        max_rows: z.number().int().positive().optional(),
        /** Wall time the train step may take, across its attempts. */
        max_training_time: duration.optional(),
        /** Attempts per activity, the first included (default 5). */
        max_attempts: z.number().int().min(1).max(100).optional(),
      })
      .strict()
      .optional(),
    on_failure: z
      .object({
        /** A failed step waits for an operator's retry / skip / abort instead of failing the run. */
        wait_for_operator: z.boolean().default(true),
        /** Steps an operator may skip: `score-shard` (a shard's days are then not published). */
        skippable: z.array(z.enum(['score-shard'])).default([]),
        /** How long a failed step waits for an operator before the run fails, naming the step. */
        wait_timeout: duration.default('7d'),
      })
      .strict()
      .default({ wait_for_operator: true, skippable: [], wait_timeout: '7d' }),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.split.train.to >= spec.split.validate.from) {
      ctx.addIssue({ code: 'custom', path: ['split', 'validate', 'from'], message: 'the validation window must start after the training window ends' });
    }
    for (const key of spec.features.keys) {
      if (key === spec.label.name) ctx.addIssue({ code: 'custom', path: ['features', 'keys'], message: `the label \`${key}\` cannot be a key` });
    }
  });
};

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
}

/** A run's spec changed while it ran: an operator fixed it and retried the step that had failed. */
export interface SpecChange {
  /** The step whose retry read the fixed spec. */
  step: string;
  from: string;
  to: string;
  at: string;
}
