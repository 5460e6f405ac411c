import type { DuckDBConnection } from '@duckdb/node-api';
import { didYouMean } from '../../contracts/closest-names';
import { kindOf, type CheckFailure, type CheckOutcome, type CheckSpec } from '../../contracts/checks';
import { specError } from '../../contracts/errors';
import { describeQuery, runSpecSql, sqlIdent, sqlString } from '../sql/duckdb';
import { windowPredicate } from '../sources/sources';
import { trailingFailures } from './trailing';

/** A relation checks read: SQL for its rows, the column days are taken from (none: the whole as one), and the days checked. */
export interface CheckedRelation {
  on: 'extract' | 'features';
  /** A relation: a view name or a parenthesized query. */
  sql: string;
  /** The column of event time (absent: a hash split, whose rows are checked as one whole). */
  time?: string;
  /** The days (`YYYY-MM-DD`) whose rows are checked; other rows (the lookback before them) only count as history. */
  from: string;
  to: string;
}

/** The spec field whose SQL a relation's rows come from, for the errors its queries raise. */
export function fieldOf(on: CheckedRelation['on']): string {
  return on === 'extract' ? 'extract.query' : 'features.sql';
}

/** The relation's rows of the checked days only (its lookback rows left out). */
function checkedRows(relation: CheckedRelation): string {
  return relation.time ? `(SELECT * FROM ${relation.sql} WHERE ${windowPredicate(relation.time, relation)})` : relation.sql;
}

export interface NamedCheck {
  name: string;
  check: CheckSpec;
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL.*)$/;
const FLOATING = /^(FLOAT|DOUBLE)$/;
const TEXT = /^(VARCHAR|BLOB|JSON|ENUM.*)$/;

/** Where the checked relation is described, in messages: `the rows extract.query returns`. */
const WHAT = { extract: 'the rows extract.query returns', features: 'the rows features.sql returns' } as const;

/**
 * Refuses a check naming a column the relation lacks (with the column it most likely meant), a range or NULL
 * share on a column of the wrong type: a spec error, before any check runs.
 */
export function checkColumns(checks: readonly NamedCheck[], on: 'extract' | 'features', columns: ReadonlyArray<{ name: string; type: string }>, where = ''): void {
  const names = columns.map((c) => c.name);
  for (const { name, check } of checks) {
    const wanted = check.unique ?? (check.column ? [check.column] : []);
    const field = check.unique ? 'unique' : 'column';
    for (const column of wanted) {
      if (names.includes(column)) continue;
      const hint = didYouMean(column, names);
      throw specError(`${where}checks.${name}.${field}: \`${column}\` is not a column of ${WHAT[on]}${hint ? `; did you mean \`${hint}\`?` : ''} (columns: ${names.join(', ')}${on === 'extract' ? '; a feature column is checked with on: features' : ''})`);
    }
    const type = columns.find((c) => c.name === check.column)?.type ?? '';
    if (check.range && !NUMERIC.test(type)) throw specError(`${where}checks.${name}.range: \`${check.column}\` is ${type}; a range checks a numeric column`);
  }
}

/** A SQL literal for an allowed value. */
function literal(value: string | number | boolean): string {
  return typeof value === 'string' ? sqlString(value) : String(value);
}

/** The SQL aggregates one check adds to the declarative pass (per day), and how to read them back. */
function aggregates(check: CheckSpec, type: string): string[] {
  const column = check.column ? sqlIdent(check.column) : '';
  const nullish = `${column} IS NULL${FLOATING.test(type) ? ` OR isnan(${column})` : ''}`;
  switch (kindOf(check)) {
    case 'not_null':
    case 'max_null_share':
      return [`count(*) FILTER (WHERE ${nullish})`];
    case 'range': {
      const { min, max } = check.range ?? {};
      const outside = [min !== undefined ? `${column} < ${min}` : '', max !== undefined ? `${column} > ${max}` : ''].filter(Boolean).join(' OR ');
      return [`count(*) FILTER (WHERE ${outside})`, `min(${column})::DOUBLE`, `max(${column})::DOUBLE`];
    }
    case 'allowed': {
      const values = check.allowed ?? [];
      // Numbers against a numeric column compare as numbers; anything else as text.
      const numeric = NUMERIC.test(type) && values.every((v) => typeof v === 'number');
      const probe = numeric ? column : `CAST(${column} AS VARCHAR)`;
      const list = values.map((v) => (numeric ? literal(v) : sqlString(String(v)))).join(', ');
      const outside = `${column} IS NOT NULL AND ${probe} NOT IN (${list})`;
      return [`count(*) FILTER (WHERE ${outside})`, `count(DISTINCT ${probe}) FILTER (WHERE ${outside})`];
    }
    default:
      return [];
  }
}

/** What the declarative pass saw of one day. */
interface DayRow {
  day: string;
  rows: number;
  values: unknown[];
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toPrecision(6).replace(/\.?0+$/, ''));
const pct = (share: number) => `${(share * 100).toFixed(1)} %`;

/**
 * The declarative checks on one relation in one DuckDB pass (rows and each check's aggregates, grouped by day),
 * and the row counts per day of every day the relation holds (history included). `history` gives the rows per day
 * earlier runs recorded, for trailing-window checks. Every failing day is listed (the caller keeps {@link MAX_FAILURES}).
 */
export async function declarativeChecks(
  connection: DuckDBConnection,
  relation: CheckedRelation,
  checks: readonly NamedCheck[],
  columns: ReadonlyArray<{ name: string; type: string }>,
  history: ReadonlyMap<string, number>,
): Promise<{ outcomes: CheckOutcome[]; dayRows: Map<string, number> }> {
  const typeOf = (c?: string) => columns.find((x) => x.name === c)?.type ?? '';
  const declarative = checks.filter(({ check }) => !['unique', 'sql'].includes(kindOf(check)));
  const parts = declarative.map(({ check }) => aggregates(check, typeOf(check.column)));
  const day = relation.time ? `strftime(CAST(${sqlIdent(relation.time)} AS DATE), '%Y-%m-%d')` : `'all'`;
  const select = [`${day} AS sluice_day`, 'count(*)::BIGINT', ...parts.flat().map((a) => `(${a})::DOUBLE`)].join(', ');
  const reader = await runSpecSql(fieldOf(relation.on), () => connection.runAndReadAll(`SELECT ${select} FROM ${relation.sql} GROUP BY 1 ORDER BY 1`));
  const all: DayRow[] = reader.getRowsJS().map((r) => ({ day: String(r[0]), rows: Number(r[1]), values: r.slice(2) }));
  const inWindow = (d: string) => !relation.time || (d >= relation.from && d <= relation.to);
  const days = all.filter((d) => inWindow(d.day));
  const dayRows = new Map(all.map((d) => [d.day, d.rows]));
  let offset = 0;
  const outcomes = declarative.map(({ name, check }, i) => {
    const at = offset;
    offset += parts[i].length;
    const value = (d: DayRow, k: number) => Number(d.values[at + k]);
    return outcomeOf(name, check, relation, days, value, new Map([...history, ...dayRows]));
  });
  return { outcomes, dayRows };
}

function outcomeOf(name: string, check: CheckSpec, relation: CheckedRelation, days: DayRow[], value: (d: DayRow, k: number) => number, counts: ReadonlyMap<string, number>): CheckOutcome {
  const kind = kindOf(check);
  const base = { name, kind, on: relation.on, severity: check.severity, ...(check.column ? { column: check.column } : {}) };
  const dayOf = (d: DayRow) => (relation.time ? { day: d.day } : {});
  let failures: CheckFailure[] = [];
  let observed = '';
  let noHistory = false;
  const rows = days.reduce((s, d) => s + d.rows, 0);
  switch (kind) {
    case 'not_null':
    case 'max_null_share': {
      const limit = check.max_null_share ?? 0;
      const nulls = days.reduce((s, d) => s + value(d, 0), 0);
      failures = days
        .filter((d) => value(d, 0) / d.rows > limit)
        .sort((a, b) => value(b, 0) / b.rows - value(a, 0) / a.rows)
        .map((d) => ({ ...dayOf(d), observed: `${value(d, 0)} of ${d.rows} rows NULL (${pct(value(d, 0) / d.rows)})`, bound: limit === 0 ? 'no NULL' : `at most ${pct(limit)} NULL` }));
      observed = `${nulls} NULL in ${rows} rows (${pct(rows > 0 ? nulls / rows : 0)})`;
      break;
    }
    case 'range': {
      const { min, max } = check.range ?? {};
      const bound = min !== undefined && max !== undefined ? `${fmt(min)} .. ${fmt(max)}` : min !== undefined ? `at least ${fmt(min)}` : `at most ${fmt(max ?? 0)}`;
      failures = days
        .filter((d) => value(d, 0) > 0)
        .sort((a, b) => value(b, 0) - value(a, 0))
        .map((d) => ({ ...dayOf(d), observed: `${value(d, 0)} of ${d.rows} rows outside (min ${fmt(value(d, 1))}, max ${fmt(value(d, 2))})`, bound }));
      const lows = days.map((d) => value(d, 1)).filter(Number.isFinite);
      const highs = days.map((d) => value(d, 2)).filter(Number.isFinite);
      observed = lows.length > 0 ? `${check.column} ${fmt(Math.min(...lows))} .. ${fmt(Math.max(...highs))}` : `${check.column}: no values`;
      break;
    }
    case 'allowed': {
      failures = days
        .filter((d) => value(d, 0) > 0)
        .sort((a, b) => value(b, 0) - value(a, 0))
        .map((d) => ({ ...dayOf(d), observed: `${value(d, 0)} rows with ${value(d, 1)} value${value(d, 1) === 1 ? '' : 's'} not allowed`, bound: `one of ${(check.allowed ?? []).length} allowed values` }));
      observed = `${days.reduce((s, d) => s + value(d, 0), 0)} rows with a value not allowed`;
      break;
    }
    case 'row_count': {
      const { min, max, trailing_days: trailing, within_pct: within } = check.row_count ?? {};
      const bound = min !== undefined && max !== undefined ? `${min} .. ${max} rows` : min !== undefined ? `at least ${min} rows` : `at most ${max ?? 0} rows`;
      if (min !== undefined || max !== undefined) {
        failures = days.filter((d) => (min !== undefined && d.rows < min) || (max !== undefined && d.rows > max)).map((d) => ({ ...dayOf(d), observed: `${d.rows} rows`, bound }));
      }
      const counted = days.map((d) => d.rows);
      observed = counted.length > 0 ? `${days.length} days, ${Math.min(...counted)} .. ${Math.max(...counted)} rows a day` : 'no rows';
      if (trailing !== undefined && within !== undefined) {
        const result = trailingFailures(days.map((d) => d.day), counts, trailing, within);
        failures.push(...result.failures);
        if (result.checked === 0) noHistory = true;
        observed += `; ${result.checked} compared with the trailing ${trailing} days' median${result.withoutHistory.length > 0 ? `, ${result.withoutHistory.length} without enough history before them` : ''}`;
      }
      break;
    }
    default:
      break;
  }
  const failed = failures.length;
  const status = failed > 0 ? (check.severity === 'error' ? 'failed' : 'warned') : noHistory ? 'no-history' : 'passed';
  return { ...base, status, observed, failures, failed };
}

/** Rows' values as a failure shows them: numbers, dates and booleans as they are, text masked (a cell may hold a secret). */
function shown(row: Record<string, unknown>, columns: ReadonlyArray<{ name: string; type: string }>): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [key, v] of Object.entries(row)) {
    const type = columns.find((c) => c.name === key)?.type ?? '';
    if (v === null || v === undefined) out[key] = null;
    else if (TEXT.test(type)) out[key] = '…';
    else if (typeof v === 'number' || typeof v === 'boolean') out[key] = v;
    else if (typeof v === 'bigint') out[key] = Number(v);
    else if (v instanceof Date) out[key] = v.toISOString().replace('T', ' ').replace(/(\.000)?Z$/, '');
    else out[key] = String(v);
  }
  return out;
}

/** Rows a failure shows at most. */
const SHOWN_ROWS = 3;

/** Key uniqueness: the keys shared by more than one of the checked rows (the most repeated first). */
export async function uniqueCheck(connection: DuckDBConnection, relation: CheckedRelation, { name, check }: NamedCheck, columns: ReadonlyArray<{ name: string; type: string }>): Promise<CheckOutcome> {
  const keys = (check.unique ?? []).map(sqlIdent).join(', ');
  const table = `sluice_dups_${name}`;
  await runSpecSql(fieldOf(relation.on), () => connection.run(`CREATE OR REPLACE TEMP TABLE ${sqlIdent(table)} AS SELECT ${keys}, count(*)::BIGINT AS sluice_n FROM ${checkedRows(relation)} GROUP BY ALL HAVING count(*) > 1`));
  const totals = (await connection.runAndReadAll(`SELECT count(*)::BIGINT, coalesce(sum(sluice_n), 0)::BIGINT FROM ${sqlIdent(table)}`)).getRowsJS()[0].map(Number);
  const top = (await connection.runAndReadAll(`SELECT * EXCLUDE (sluice_n), sluice_n AS rows FROM ${sqlIdent(table)} ORDER BY sluice_n DESC, ${keys} LIMIT ${SHOWN_ROWS}`)).getRowObjectsJS();
  const [groups, rows] = totals;
  const failures: CheckFailure[] = groups > 0 ? [{ observed: `${groups} keys shared by ${rows} rows`, bound: 'every key once', rows: top.map((r) => shown(r, columns)) }] : [];
  const status = groups === 0 ? 'passed' : check.severity === 'error' ? 'failed' : 'warned';
  return { name, kind: 'unique', on: relation.on, severity: check.severity, status, observed: `${groups} duplicated keys (${(check.unique ?? []).join(', ')})`, failures, failed: failures.length };
}

/** A SQL check: its SELECT over `checked` (the checked rows) returns the offending rows; any row fails it. */
export async function sqlCheck(connection: DuckDBConnection, relation: CheckedRelation, { name, check }: NamedCheck): Promise<CheckOutcome> {
  const query = (check.sql ?? '').trim().replace(/;\s*$/, '');
  const field = `checks.${name}.sql`;
  await connection.run(`CREATE OR REPLACE TEMP VIEW checked AS SELECT * FROM ${checkedRows(relation)}`);
  const n = Number((await runSpecSql(field, () => connection.runAndReadAll(`SELECT count(*)::BIGINT FROM (\n${query}\n)`))).getRowsJS()[0][0]);
  let failures: CheckFailure[] = [];
  if (n > 0) {
    const columns = await describeQuery(connection, `(\n${query}\n)`);
    const first = (await connection.runAndReadAll(`SELECT * FROM (\n${query}\n) LIMIT ${SHOWN_ROWS}`)).getRowObjectsJS();
    failures = [{ observed: `${n} offending rows`, bound: 'none', rows: first.map((r) => shown(r, columns)) }];
  }
  const status = n === 0 ? 'passed' : check.severity === 'error' ? 'failed' : 'warned';
  return { name, kind: 'sql', on: relation.on, severity: check.severity, status, observed: `${n} offending rows`, failures, failed: failures.length };
}
