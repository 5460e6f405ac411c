import type { DuckDBConnection } from '@duckdb/node-api';
import { describeQuery, sqlIdent, sqlString } from '../sql/duckdb';
import { dataError } from '../../contracts/errors';
import { MAX_CLASSES, probabilityColumn } from '../../contracts/classes';
import { firstRow } from './first-row';
import type { ClassCount } from '../../contracts/artifacts';

const CLASS_TYPES = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|VARCHAR|BOOLEAN)$/;

/**
 * The classes of a multiclass label in the training rows of `train` (a relation with the label and the time
 * column), in the label's own order (numbers as numbers), with their rows. Refuses a label that is not text or an
 * integer, NULL labels, a single class, more than {@link MAX_CLASSES}, and two classes whose probability columns
 * would have one name; each with counts and the first example.
 */
export async function trainingClasses(connection: DuckDBConnection, train: string, label: string, time: string): Promise<ClassCount[]> {
  const y = sqlIdent(label);
  const type = (await describeQuery(connection, train)).find((c) => c.name === label)?.type ?? '';
  if (!CLASS_TYPES.test(type)) {
    const first = await firstRow(connection, train, `${y} IS NOT NULL`, label, time);
    throw dataError(`label.sql: a multiclass label is text or an integer, got ${type}${first ? ` (the first: ${JSON.stringify(first.value)})` : ''}; cast it in label.sql, or set task: regression for a number`);
  }
  const nulls = await firstRow(connection, train, `${y} IS NULL`, label, time);
  if (nulls) throw dataError(`label.sql: ${nulls.rows} training rows have a NULL label; filter them in extract.query, or give them a class in label.sql (the first at ${time} ${nulls.at})`);
  const reader = await connection.runAndReadAll(`SELECT CAST(${y} AS VARCHAR), count(*)::BIGINT FROM ${train} GROUP BY ${y} ORDER BY ${y}`);
  const classes = reader.getRowsJS().map(([name, rows]) => ({ name: String(name), rows: Number(rows) }));
  if (classes.length < 2) throw dataError(`label.sql: the training window has only one class (every label is ${JSON.stringify(classes[0]?.name)}); a classifier needs two or more`);
  if (classes.length > MAX_CLASSES) {
    const top = [...classes].sort((a, b) => b.rows - a.rows).slice(0, 5).map((c) => `${JSON.stringify(c.name)} (${c.rows} rows)`);
    throw dataError(`label.sql: the training window has ${classes.length} classes (the most frequent: ${top.join(', ')}); a multiclass label has at most ${MAX_CLASSES}: group the rare ones in label.sql, or set task: regression for a number`);
  }
  const byColumn = new Map<string, string>();
  for (const { name } of classes) {
    const column = probabilityColumn(name);
    const other = byColumn.get(column);
    if (other !== undefined) throw dataError(`label.sql: the classes ${JSON.stringify(other)} and ${JSON.stringify(name)} would both be written to the column ${column}; rename one in label.sql`);
    byColumn.set(column, name);
  }
  return classes;
}

/**
 * Refuses validation rows of `rows` (filtered by `where`) whose label is NULL or a class training never saw:
 * the model has no probability for it, so neither its log loss nor the gates would be defined.
 */
export async function checkValidationClasses(connection: DuckDBConnection, rows: string, where: string, label: string, time: string, classes: ClassCount[]): Promise<void> {
  const y = sqlIdent(label);
  const nulls = await firstRow(connection, rows, `${where} AND ${y} IS NULL`, label, time);
  if (nulls) throw dataError(`label.sql: ${nulls.rows} validation rows have a NULL label; filter them in extract.query, or give them a class in label.sql (the first at ${time} ${nulls.at})`);
  const unseen = await firstRow(connection, rows, `${where} AND CAST(${y} AS VARCHAR) NOT IN (${classes.map((c) => sqlString(c.name)).join(', ')})`, label, time);
  if (unseen) {
    throw dataError(
      `label.sql: ${unseen.rows} validation rows have a class the training window never saw (the first: ${JSON.stringify(unseen.value)} at ${time} ${unseen.at}); the model knows ${classes.map((c) => JSON.stringify(c.name)).join(', ')}: widen split.train to a window that has it, or map it to one of those in label.sql`,
    );
  }
}

/** The class code of the label: its position in `classes`, from 0, as FLOAT (the label column of a feature set). */
export function classCodeSql(label: string, classes: ClassCount[]): string {
  return `CAST(list_position([${classes.map((c) => sqlString(c.name)).join(', ')}], CAST(${sqlIdent(label)} AS VARCHAR)) - 1 AS FLOAT)`;
}
