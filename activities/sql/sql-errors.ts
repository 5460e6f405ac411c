import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { closestFirst } from '../../contracts/closest-names';
import { describeQuery, sqlIdent } from './duckdb';
import { dataError } from '../../contracts/errors';
import { formatOf } from '../sources/formats';
import { resolveSources } from '../sources/sources';
import type { LoadedSpec } from '../../contracts/spec';


/**
 * DuckDB's binder errors in Sluice's words. A spec field's SQL that names a missing column, or does
 * arithmetic on a text column, gets DuckDB's own text ("Values list "s" does not have a column named …",
 * "No function matches '-(VARCHAR, DOUBLE)'" and forty lines of candidate functions); these explainers turn it
 * into one message that names the field, the column, what exists instead and, for a stray text value, the
 * first one and where it is. Each is a courtesy: when it cannot explain, the original error stands.
 */

/** DuckDB's words for an operator or function given a value of the wrong type. */
const TYPE_ERROR = /^([\w.]+): Binder Error: (No function matches|Cannot compare|Cannot mix|Could not choose a best candidate)/;
/** DuckDB's words for a column that is not there, with the relation (alias) it was looked up in when it says. */
const MISSING_COLUMN = [
  /^([\w.]+): Binder Error: (?:Values list|Table) "([^"]+)" does not have a column named "([^"]+)"/,
  /^([\w.]+): Binder Error: Referenced column "([^"]+)" not found in FROM clause/,
];

/** Column types that hold text (JSON: a field whose values have mixed types), and nested ones. */
const TEXT = /^(VARCHAR|JSON)$/;
export const NESTED = /^(STRUCT|MAP|UNION)\(|\[\d*\]$/;

/** Longest stretch of an offending value quoted in a message. */
const VALUE_CHARS = 40;
/** Columns listed in a "does not exist" message at most. */
const LISTED_COLUMNS = 20;

/** The full text of the DuckDB error behind a spec-SQL failure (kept off the failure's message, which is masked). */
export function sqlMessageOf(err: unknown): string | undefined {
  return (err as { sqlMessage?: string } | undefined)?.sqlMessage;
}

/**
 * Explains `err` (a failure of a spec field's SQL) for the relations the SQL could read (`relations`: view and
 * table names on `connection`, e.g. `extracted`, `source`, the sources by name); any other error comes back as it is.
 */
export async function explainSqlError(connection: DuckDBConnection, loaded: LoadedSpec, relations: string[], err: unknown): Promise<unknown> {
  const message = String((err as { message?: unknown })?.message ?? '');
  try {
    const typeError = TYPE_ERROR.exec(message);
    if (typeError) return (await explainTypeMismatch(connection, loaded, relations, typeError[1], sqlMessageOf(err))) ?? err;
    for (const pattern of MISSING_COLUMN) {
      const missing = pattern.exec(message);
      if (!missing) continue;
      const [, field, alias, column] = missing.length === 4 ? missing : [missing[0], missing[1], undefined, missing[2]];
      return (await explainMissingColumn(connection, loaded, relations, field, column, alias)) ?? err;
    }
  } catch {
    // The explanation is a courtesy: when it cannot be made, the original error stands.
  }
  return err;
}

/** The SQL text of a spec field named like `features.sql` or `features.stats.overall`. */
function fieldSql(loaded: LoadedSpec, field: string): string {
  const { spec } = loaded;
  if (field === 'label.sql') return spec.label.sql;
  if (field === 'extract.query') return spec.extract.query;
  if (field.startsWith('features.stats.')) return spec.features.stats[field.slice('features.stats.'.length)] ?? '';
  return spec.features.sql;
}

const mentions = (sql: string, name: string) => new RegExp(`(^|[^\\w"])"?${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"?($|[^\\w"])`, 'i').test(sql);

/** The relations that exist on the connection, with their columns. */
async function columnsOf(connection: DuckDBConnection, relations: string[]): Promise<Map<string, Array<{ name: string; type: string }>>> {
  const found = new Map<string, Array<{ name: string; type: string }>>();
  for (const relation of relations) {
    const columns = await describeQuery(connection, sqlIdent(relation)).catch(() => undefined);
    if (columns) found.set(relation, columns);
  }
  return found;
}

/**
 * "features.sql: column `humidity` does not exist in `s` (the rows of `source`); its columns, closest first:
 * temp_max, temp_min, …". The alias is resolved through the field's `FROM x s` / `JOIN x AS s`.
 */
async function explainMissingColumn(connection: DuckDBConnection, loaded: LoadedSpec, relations: string[], field: string, column: string, alias: string | undefined): Promise<unknown> {
  const sql = fieldSql(loaded, field);
  const tables = await columnsOf(connection, relations);
  const aliased = alias === undefined ? undefined : aliasTarget(sql, alias, [...tables.keys()]);
  const where = aliased ? [aliased] : [...tables.keys()].filter((t) => mentions(sql, t));
  const names = [...new Set(where.flatMap((t) => (tables.get(t) ?? []).map((c) => c.name)))];
  if (names.length === 0) return undefined;
  const listed = closestFirst(column, names);
  const more = listed.length > LISTED_COLUMNS ? `, … ${listed.length - LISTED_COLUMNS} more` : '';
  const inWhat = alias !== undefined ? `\`${alias}\`${aliased && aliased !== alias ? ` (the rows of \`${aliased}\`)` : ''}` : where.map((t) => `\`${t}\``).join(', ');
  return dataError(`${field}: column \`${column}\` does not exist in ${inWhat}; its columns, closest first: ${listed.slice(0, LISTED_COLUMNS).join(', ')}${more}`);
}

/** The relation an alias stands for in `FROM relation alias` / `JOIN relation AS alias`, when it is one of `known`. */
function aliasTarget(sql: string, alias: string, known: string[]): string | undefined {
  if (known.includes(alias)) return alias;
  const pattern = new RegExp(`\\b(?:FROM|JOIN)\\s+"?(\\w+)"?\\s+(?:AS\\s+)?"?${alias}"?(?![\\w"])`, 'gi');
  for (const match of sql.matchAll(pattern)) if (known.includes(match[1])) return match[1];
  return undefined;
}

/**
 * A text (VARCHAR) column used where a number is needed. With a few stray text values among numbers — a
 * data error — the message quotes the first one and says where it is (line of a CSV source, row of a Parquet
 * one); a column that is text throughout (names, codes) is named without quoting any value (it may hold
 * anything, secrets included).
 */
async function explainTypeMismatch(connection: DuckDBConnection, loaded: LoadedSpec, relations: string[], field: string, sqlMessage: string | undefined): Promise<unknown> {
  const sql = fieldSql(loaded, field);
  const expression = failedExpression(sqlMessage);
  const tables = await columnsOf(connection, relations);
  const candidates = [...tables.entries()].flatMap(([relation, columns]) => columns.filter((c) => (TEXT.test(c.type) || NESTED.test(c.type)) && mentions(sql, c.name)).map((c) => ({ relation, ...c })));
  // The column in the expression DuckDB pointed at first.
  candidates.sort((a, b) => Number(expression !== undefined && mentions(expression, b.name)) - Number(expression !== undefined && mentions(expression, a.name)));
  const seen = new Set<string>();
  for (const { relation, name, type } of candidates) {
    if (seen.has(name)) continue;
    seen.add(name);
    const inExpression = expression ? ` (in \`${expression}\`)` : '';
    if (NESTED.test(type)) {
      return dataError(`${field}: column \`${name}\` is nested (${type}) where a number is needed${inExpression}: select its fields in extract.query, e.g. ${name}.<field> AS ${name}_<field>`);
    }
    const counts = await connection.runAndReadAll(
      `SELECT count(*) FILTER (WHERE TRY_CAST(${sqlIdent(name)} AS DOUBLE) IS NULL AND ${sqlIdent(name)} IS NOT NULL), count(${sqlIdent(name)}) FROM ${sqlIdent(relation)}`,
    );
    const [text, total] = counts.getRowsJS()[0].map(Number);
    if (text === 0) {
      return dataError(`${field}: column \`${name}\` is ${type} where a number is needed${inExpression}, though every one of its ${total} values reads as a number: convert it in extract.query (CAST(${name} AS DOUBLE))`);
    }
    if (text * 2 > total) {
      if (candidates.length > seen.size && !(expression && mentions(expression, name))) continue;
      return dataError(`${field}: column \`${name}\` is text (${type}, ${text} of ${total} values are not numbers) and is used where a number is needed${inExpression}: encode it (a CASE or a statistics table), or list it under features.keys if it is not a model input`);
    }
    const where = await firstTextValue(connection, loaded, relation, name);
    return dataError(
      `${field}: column \`${name}\` is ${type} where a number is needed${inExpression}: ${text} of ${total} values are not numbers${where}. ` +
        `Fix the data, or convert it in extract.query (TRY_CAST(${name} AS DOUBLE) gives NULL for text)`,
    );
  }
  return undefined;
}

/** The select item (or expression) DuckDB's caret points at in "LINE n: …", or undefined. */
export function failedExpression(sqlMessage: string | undefined): string | undefined {
  const lines = sqlMessage?.split('\n') ?? [];
  const at = lines.findIndex((l) => /^LINE \d+: /.test(l));
  if (at < 0 || lines[at + 1] === undefined) return undefined;
  const prefix = /^LINE \d+: /.exec(lines[at])?.[0].length ?? 0;
  const text = lines[at].slice(prefix);
  const caret = lines[at + 1].indexOf('^') - prefix;
  if (caret < 0 || caret >= text.length) return undefined;
  // Left to the comma (or keyword) that starts the item, counting the parentheses opened on the way …
  let start = caret;
  let open = 0;
  for (let depth = 0; start > 0; start--) {
    const c = text[start - 1];
    if (c === ')') depth++;
    else if (c === '(') {
      if (depth === 0) open++;
      else depth--;
    } else if (c === ',' && depth === 0) break;
    if (depth === 0 && /\b(SELECT|WHERE|ON|AND|OR|BY|WHEN|THEN|ELSE)\s$/i.test(text.slice(0, start - 1) + c)) break;
  }
  // … and right until those are closed and the item ends.
  let end = caret;
  for (let depth = open; end < text.length; end++) {
    const c = text[end];
    if (c === '(') depth++;
    else if (c === ')') {
      if (depth === 0) break;
      depth--;
    } else if (depth === 0 && (c === ',' || /^\s+(AS|FROM|WHERE|AND|OR|THEN|ELSE|END)\b/i.test(text.slice(end)))) break;
  }
  const expression = text.slice(start, end).trim();
  return expression.length > 0 && expression.length <= 80 ? expression : undefined;
}

/** `; the first is "500 miles" on line 3 of sources.flights (flights.csv)`, or row N of a Parquet source; else ''. */
async function firstTextValue(connection: DuckDBConnection, loaded: LoadedSpec, relation: string, column: string): Promise<string> {
  const notNumber = (value: string) => `TRY_CAST(${value} AS DOUBLE) IS NULL AND ${value} IS NOT NULL`;
  for (const [name, file] of Object.entries(await resolveSources(loaded))) {
    const reader = formatOf(file, loaded.spec.sources[name].format).positions?.(file);
    if (!reader || !(await describeQuery(connection, reader.relation)).some((c) => c.name === column)) continue;
    const found = await connection.runAndReadAll(
      `SELECT position, value FROM (SELECT ${reader.position} AS position, CAST(${sqlIdent(column)} AS VARCHAR) AS value FROM ${reader.relation}) WHERE ${notNumber('value')} ORDER BY position LIMIT 1`,
    );
    const row = found.getRowsJS()[0];
    if (!row) continue;
    const value = String(row[1]);
    const shown = value.length > VALUE_CHARS ? `${value.slice(0, VALUE_CHARS)}…` : value;
    return `; the first is ${JSON.stringify(shown)} on ${reader.unit} ${Number(row[0])} of sources.${name} (${path.basename(file)})`;
  }
  // Not from a source file (computed in extract.query): its row among the rows the field read.
  const found = await connection.runAndReadAll(
    `SELECT position, value FROM (SELECT row_number() OVER () AS position, ${sqlIdent(column)} AS value FROM ${sqlIdent(relation)}) WHERE ${notNumber('value')} ORDER BY position LIMIT 1`,
  );
  const row = found.getRowsJS()[0];
  if (!row) return '';
  const value = String(row[1]);
  return `; the first is ${JSON.stringify(value.length > VALUE_CHARS ? `${value.slice(0, VALUE_CHARS)}…` : value)} in row ${Number(row[0])} of \`${relation}\``;
}
