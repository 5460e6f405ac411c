import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString, withDuckDB } from '../sql/duckdb';
import { specError } from '../../contracts/errors';
import { hashSplitOf, type LoadedSpec } from '../../contracts/spec';


/** A node of DuckDB's parse tree as `json_serialize_sql` writes it. */
type ParseNode = { [key: string]: unknown };

interface Parsed {
  error: boolean;
  error_message?: string;
  statements?: Array<{ node: ParseNode }>;
}

/**
 * Checks every SQL field of a spec with DuckDB's own parser, once, when the spec is loaded: each query
 * field must be exactly one SELECT, `label.sql` one expression, and time-dependent SQL must declare how
 * far it reads (`features.lookback` for window functions, `label.horizon` for a label that looks ahead).
 * Every problem is a non-retryable spec error naming the field and what to write.
 */
export async function checkSpecSql(loaded: LoadedSpec): Promise<void> {
  const { spec } = loaded;
  const where = (field: string) => `${loaded.file}: ${field}`;
  await withDuckDB(async (connection) => {
    const queries: Array<[string, string]> = [
      ['extract.query', spec.extract.query],
      ...Object.entries(spec.features.stats).map(([name, sql]): [string, string] => [`features.stats.${name}`, sql]),
      ['features.sql', spec.features.sql],
      // A SQL check returns the offending rows: one SELECT, like every query field.
      ...Object.entries(spec.checks ?? {}).flatMap(([name, check]): Array<[string, string]> => (check.sql ? [[`checks.${name}.sql`, check.sql]] : [])),
    ];
    const trees = new Map<string, ParseNode>();
    for (const [field, sql] of queries) trees.set(field, await parseSelect(connection, sql.trim().replace(/;\s*$/, ''), where(field)));
    const label = await parseLabel(connection, spec.label.sql, where('label.sql'));

    const featureWindows = windowsIn(trees.get('features.sql'));
    const labelWindows = windowsIn(label);
    if (hashSplitOf(spec) && featureWindows.length + labelWindows.length > 0) {
      const [field, fn] = featureWindows.length > 0 ? ['features.sql', featureWindows[0]] : ['label.sql', labelWindows[0]];
      throw specError(
        `${where(field)}: uses the window function ${fn}(), which reads other rows; a hash split's rows have no time order, and the rows beside one differ between training and each batch scored, ` +
          'so its features and label are computed from each row alone (a statistic over the training rows goes in features.stats), or split by time',
      );
    }
    if (featureWindows.length > 0 && spec.features.lookback === undefined) {
      throw specError(
        `${where('features.lookback')}: is required because features.sql uses the window function ${featureWindows[0]}(), which reads other rows; ` +
          'set features.lookback to the longest span of history a window reads (e.g. `lookback: 7d` for a 7-day rolling window), so every window — training split, day, shard — reads that history too',
      );
    }
    if (featureWindows.includes('lead')) {
      throw specError(`${where('features.sql')}: uses lead(), which reads rows after each row's time; features may read only the past (use lag(), or a frame that ends at CURRENT ROW or before)`);
    }
    if (labelWindows.length > 0 && spec.label.horizon === undefined) {
      const reads = labelWindows.includes('lead') ? 'lead(), which reads the rows after each row' : `the window function ${labelWindows[0]}(), which reads other rows`;
      throw specError(
        `${where('label.horizon')}: is required because label.sql uses ${reads}; set label.horizon to how far after a row its label reads ` +
          '(e.g. `horizon: 1d` for "rain tomorrow"), so training rows near the end of the data are dropped instead of given a made-up label',
      );
    }
  }, { confineTo: [] });
}

/** The parse tree of a query field, refused unless it is exactly one SELECT statement. */
async function parseSelect(connection: DuckDBConnection, sql: string, field: string): Promise<ParseNode> {
  const parsed = await serialize(connection, sql);
  if (parsed.error) {
    const why = /Only SELECT/.test(parsed.error_message ?? '') ? 'only a SELECT query is allowed here' : (parsed.error_message ?? 'not valid SQL');
    throw specError(`${field}: must be one SELECT query (${why})`);
  }
  const statements = parsed.statements ?? [];
  if (statements.length !== 1) throw specError(`${field}: must be one SELECT query, found ${statements.length} statements`);
  return statements[0].node;
}

/** The parse tree of `label.sql`, refused unless it is one expression (no FROM, WHERE, or text after it). */
async function parseLabel(connection: DuckDBConnection, sql: string, field: string): Promise<ParseNode> {
  // The newlines keep a trailing `--` comment from swallowing the closing parenthesis.
  const parsed = await serialize(connection, `SELECT (\n${sql}\n) AS label`);
  const node = parsed.statements?.length === 1 ? parsed.statements[0].node : undefined;
  const single =
    node !== undefined &&
    Array.isArray(node.select_list) &&
    node.select_list.length === 1 &&
    (node.from_table as ParseNode | undefined)?.type === 'EMPTY' &&
    ['where_clause', 'having', 'qualify', 'sample'].every((k) => node[k] === null) &&
    (node.group_expressions as unknown[]).length === 0 &&
    (node.modifiers as unknown[]).length === 0;
  if (parsed.error || !single) {
    throw specError(`${field}: must be one SQL expression over the extracted columns (e.g. \`delay > 15\`), not a query or several clauses`);
  }
  return (node.select_list as ParseNode[])[0];
}

async function serialize(connection: DuckDBConnection, sql: string): Promise<Parsed> {
  const reader = await connection.runAndReadAll(`SELECT json_serialize_sql(${sqlString(sql)})`);
  return JSON.parse(String(reader.getRowsJS()[0][0])) as Parsed;
}

/** Names of the window functions anywhere in a parse tree (subqueries and CTEs included), `lead` for lead(). */
export function windowsIn(tree: unknown): string[] {
  const found: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(walk);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const node = value as ParseNode;
    if (node.class === 'WINDOW') found.push(node.type === 'WINDOW_LEAD' ? 'lead' : String(node.function_name ?? 'window'));
    Object.values(node).forEach(walk);
  };
  walk(tree);
  return found;
}
