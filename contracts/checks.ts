import { z } from 'zod';

/** The kinds of check a spec's `checks:` may hold; each check is exactly one. */
export const CHECK_KINDS = ['not_null', 'max_null_share', 'range', 'allowed', 'unique', 'row_count', 'sql'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

/** The kinds that test one column (`column:` required). */
export const COLUMN_KINDS: readonly CheckKind[] = ['not_null', 'max_null_share', 'range', 'allowed'];

const name = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a plain SQL name (letters, digits and _, not starting with a digit)');

const range = z
  .object({ min: z.number().optional().describe('The least value allowed.'), max: z.number().optional().describe('The largest value allowed.') })
  .strict()
  .refine((r) => r.min !== undefined || r.max !== undefined, 'expected `min`, `max` or both')
  .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, '`min` is above `max`');

const rowCount = z
  .object({
    min: z.number().int().min(0).optional().describe('The fewest rows a day may have.'),
    max: z.number().int().min(0).optional().describe('The most rows a day may have.'),
    trailing_days: z.number().int().min(1).max(90).optional().describe("The days before each day whose median row count it is compared with (with `within_pct`): the run's own days and those earlier runs recorded."),
    within_pct: z.number().gt(0).max(1000).optional().describe("How far, in percent, a day's rows may be from the trailing median (30: between 70 % and 130 % of it)."),
  })
  .strict()
  .refine((r) => r.min !== undefined || r.max !== undefined || r.trailing_days !== undefined, 'expected `min`, `max`, or `trailing_days` with `within_pct`')
  .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, '`min` is above `max`')
  .refine((r) => (r.trailing_days === undefined) === (r.within_pct === undefined), '`trailing_days` and `within_pct` go together (e.g. trailing_days: 7, within_pct: 30)');

/** One check of `checks:`: where it looks, how bad a failure is, and exactly one expectation. */
export const checkSchema = z
  .object({
    on: z.enum(['extract', 'features']).default('extract').describe("What it checks: the rows extract.query returns (`extract`, the default) or the rows features.sql returns (`features`), of the run's own days."),
    severity: z.enum(['error', 'warn']).default('error').describe('`error` stops the run (training before the train step, a scoring shard before its scores are staged); `warn` reports and goes on.'),
    description: z.string().optional().describe('What the check guards against, for people.'),
    column: name.optional().describe('The column the check tests (not_null, max_null_share, range, allowed).'),
    not_null: z.literal(true).optional().describe('No NULL (nor NaN) in `column`, on any day.'),
    max_null_share: z.number().min(0).max(1).optional().describe("The largest share of a day's rows that may have `column` NULL (or NaN), e.g. 0.05."),
    range: range.optional().describe('`column` lies within `min` .. `max` (inclusive) on every row; NULLs are left to not_null.'),
    allowed: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1).optional().describe('The only values `column` may take (NULLs are left to not_null).'),
    unique: z.array(name).min(1).optional().describe('Columns whose values together identify a row: no two rows of the checked days share them.'),
    row_count: rowCount.optional().describe('Rows per day: within `min` .. `max`, and/or within `within_pct` % of the median of the `trailing_days` before.'),
    sql: z.string().min(1).optional().describe("One SELECT that returns the offending rows (as dbt tests do); it fails when it returns any. It reads `checked` (the rows it checks: those extract.query or features.sql returns for the run's days) and the sources."),
  })
  .strict()
  .superRefine((check, ctx) => {
    const kinds = CHECK_KINDS.filter((k) => check[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({ code: 'custom', message: kinds.length === 0 ? `expected one of ${CHECK_KINDS.join(', ')}` : `holds ${kinds.join(' and ')}: write one check each` });
      return;
    }
    const columnKind = COLUMN_KINDS.includes(kinds[0]);
    if (columnKind && check.column === undefined) ctx.addIssue({ code: 'custom', path: ['column'], message: `is required: the column ${kinds[0]} tests` });
    if (!columnKind && check.column !== undefined) ctx.addIssue({ code: 'custom', path: ['column'], message: `${kinds[0]} tests no single column; leave column out` });
  });

export type CheckSpec = z.infer<typeof checkSchema>;

/** The kind of a validated check. */
export function kindOf(check: CheckSpec): CheckKind {
  return CHECK_KINDS.find((k) => check[k] !== undefined) as CheckKind;
}

/** `drift:`: per-feature PSI of each scored day against the model's validation window. */
export const driftSchema = z
  .object({
    max_psi: z.number().positive().optional().describe("The largest PSI a scored day's feature may reach (0.25: the usual \"large shift\"), for every feature."),
    features: z.record(name, z.number().positive()).default({}).describe('Per feature, its own largest PSI (overrides max_psi).'),
    severity: z.enum(['warn', 'error']).default('warn').describe('`error`: a shard with a day over its bound is not published (an operator may skip it); `warn`: the run reports it.'),
  })
  .strict();

export type DriftSpec = z.infer<typeof driftSchema>;

/** The bound of one feature's PSI, or undefined when it has none. */
export function psiBound(drift: DriftSpec | undefined, feature: string): number | undefined {
  return drift?.features[feature] ?? drift?.max_psi;
}

/** One day (or the whole checked rows, with no `day`) a check found outside its bound. */
export interface CheckFailure {
  day?: string;
  /** What was seen: `8123 rows`, `41.2 % NULL`, `max 7400`. */
  observed: string;
  /** What was expected: `at least 11365 (30 % below the trailing 7 days' median 16235)`. */
  bound: string;
  /** A SQL check's first offending rows (text values masked), or duplicated keys. */
  rows?: Array<Record<string, string | number | boolean | null>>;
}

export type CheckState = 'passed' | 'warned' | 'failed';

/** A check's outcome on one run's (or shard's) rows. */
export interface CheckOutcome {
  name: string;
  /** The check's kind; `drift` for a feature's PSI against `drift:`'s bound. */
  kind: CheckKind | 'drift';
  on: 'extract' | 'features';
  severity: 'error' | 'warn';
  column?: string;
  status: CheckState | 'no-history';
  /** The observed value in one line: `days 1,012 .. 17,203 rows`, `0 NULL`, `distance 31 .. 4962`. */
  observed: string;
  /** At most {@link MAX_FAILURES} failing days, the worst first. */
  failures: CheckFailure[];
  /** How many days (or rows) failed in all. */
  failed: number;
}

/** The failing days (or rows) a check keeps. */
export const MAX_FAILURES = 5;

/** What a run's (or a shard's) checks found; `dayRows` are the rows per day the extract had, for later trailing-window checks. */
export interface ChecksReport {
  status: CheckState;
  checks: CheckOutcome[];
  dayRows?: Record<string, number>;
}

/** The worst of several states: failed over warned over passed. */
export function worstState(states: ReadonlyArray<CheckState | 'no-history'>): CheckState {
  if (states.includes('failed')) return 'failed';
  return states.some((s) => s === 'warned' || s === 'no-history') ? 'warned' : 'passed';
}

/** Several reports (a run's shards) as one: every outcome, the worst state. */
export function mergeReports(reports: readonly ChecksReport[]): ChecksReport | undefined {
  if (reports.length === 0) return undefined;
  const checks = reports.flatMap((r) => r.checks);
  return { status: worstState(reports.map((r) => r.status)), checks };
}

/** How many checks ended in each state, in one line: `3 passed, 1 warned`. */
export function stateCounts(report: ChecksReport): string {
  const counts = new Map<string, number>();
  for (const c of report.checks) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  return [...counts].map(([state, n]) => `${n} ${state === 'no-history' ? 'without history yet' : state}`).join(', ');
}

/** The words every failure of data checks (expectations or drift) carries: the workflow marks the run's SluiceChecks by them. */
export const CHECKS_FAILED = 'data checks failed';

/** Whether a failure's message is a data-check failure. */
export function isChecksFailure(message: string): boolean {
  return message.includes(CHECKS_FAILED);
}

/** A failing or warning check in words: `check daily_rows (row_count on extract): 2001-03-14: 8123 rows, expected at least 11365 (…)`. */
export function describeOutcome(outcome: CheckOutcome): string {
  const what = `check ${outcome.name} (${outcome.kind}${outcome.column ? ` of \`${outcome.column}\`` : ''} on ${outcome.on})`;
  if (outcome.status === 'no-history') return `${what}: no history yet (${outcome.observed})`;
  if (outcome.failures.length === 0) return `${what}: ${outcome.observed}`;
  const shown = outcome.failures.map((f) => `${f.day ? `${f.day}: ` : ''}${f.observed}, expected ${f.bound}${f.rows && f.rows.length > 0 ? `; first rows: ${f.rows.map((r) => JSON.stringify(r)).join(', ')}` : ''}`);
  const more = outcome.failed > outcome.failures.length ? `; and ${outcome.failed - outcome.failures.length} more` : '';
  return `${what}: ${shown.join('; ')}${more}`;
}

/**
 * A feature's distribution on the validation window, stored with the feature set a model was trained on: bins
 * of a numeric feature by its deciles (`edges`: a value v falls in the bin of how many edges lie below it), or a
 * categorical feature's most frequent categories (`codes`, their dictionary codes; then one bin for the other
 * categories and one for a category training never saw). `counts` are the validation rows per bin.
 */
export interface FeatureProfile {
  name: string;
  kind: 'numeric' | 'categorical';
  edges?: number[];
  codes?: number[];
  /** The categories of `codes`, for people. */
  labels?: string[];
  counts: number[];
  /**
   * The feature is constant within each validation day yet varies between days (the day of the week): a day's
   * distribution of it is one value, so it has no per-day drift and is not binned.
   */
  dayLevel?: boolean;
}
