import fs from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { CHECKS_FAILED, describeOutcome, kindOf, MAX_FAILURES, worstState, type CheckOutcome, type ChecksReport } from '../../contracts/checks';
import { dataError } from '../../contracts/errors';
import type { LoadedSpec } from '../../contracts/spec';
import { safePathSegment, writeFileAtomically, type ArtifactStore } from '../storage/artifact-store';
import { describeQuery, runSpecSql, withDuckDB } from '../sql/duckdb';
import { createSourceViews, extractQuery } from '../sources/sources';
import { checkColumns, declarativeChecks, fieldOf, sqlCheck, uniqueCheck, type CheckedRelation, type NamedCheck } from './expectations';
import { addDays } from './trailing';

/** The spec's checks on one relation (`on: extract` or `on: features`), by name. */
export function checksOn(loaded: LoadedSpec, on: 'extract' | 'features'): NamedCheck[] {
  return Object.entries(loaded.spec.checks ?? {})
    .filter(([, check]) => check.on === on)
    .map(([name, check]) => ({ name, check }));
}

/** SQL texts the checks read besides the checked rows (the sources their SQL names must be opened). */
export function checkSql(loaded: LoadedSpec): string[] {
  return Object.values(loaded.spec.checks ?? {}).flatMap((c) => (c.sql ? [c.sql] : []));
}

/** Where a pipeline's recorded rows per day are kept: one small file per day, written by the runs that checked it. */
const recordUri = (pipeline: string, on: string, day: string) => `artifact:checks/${safePathSegment(pipeline)}/${on}-rows/${day}.json`;

/** The rows per day earlier runs recorded for the `days` days before `from`. */
async function recordedRows(store: ArtifactStore, pipeline: string, on: string, from: string, days: number): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (let k = 1; k <= days; k++) {
    const day = addDays(from, -k);
    const file = await store.fetchIfPresent(recordUri(pipeline, on, day));
    if (!file) continue;
    try {
      const record = JSON.parse(fs.readFileSync(file, 'utf8')) as { rows?: unknown };
      if (typeof record.rows === 'number') found.set(day, record.rows);
    } catch {
      // A record that cannot be read is no history.
    }
  }
  return found;
}

/** Records the rows of the checked days no failing row-count check named, for the trailing-window checks of later runs. */
async function recordRows(store: ArtifactStore, pipeline: string, relation: CheckedRelation, dayRows: Map<string, number>, outcomes: CheckOutcome[], runId: string): Promise<void> {
  const refused = new Set(outcomes.filter((o) => o.kind === 'row_count' && o.status === 'failed').flatMap((o) => o.failures.map((f) => f.day)));
  for (const [day, rows] of dayRows) {
    if (day < relation.from || day > relation.to || refused.has(day)) continue;
    const uri = recordUri(pipeline, relation.on, day);
    writeFileAtomically(store.pathOf(uri), JSON.stringify({ rows, run: runId }));
    await store.push(uri);
  }
}

/**
 * Runs the checks of one relation: its columns first (a check naming a missing column is a spec error), then the
 * declarative ones in one pass, key uniqueness and SQL checks. Trailing-window row counts read this relation's days
 * and the days earlier runs recorded, and the checked days are recorded in turn.
 */
export async function checkRelation(connection: DuckDBConnection, store: ArtifactStore, loaded: LoadedSpec, relation: CheckedRelation, runId: string): Promise<{ outcomes: CheckOutcome[]; dayRows: Map<string, number> }> {
  const checks = checksOn(loaded, relation.on);
  if (checks.length === 0) return { outcomes: [], dayRows: new Map() };
  const columns = await runSpecSql(fieldOf(relation.on), () => describeQuery(connection, relation.sql));
  checkColumns(checks, relation.on, columns);
  const trailing = Math.max(0, ...checks.map(({ check }) => check.row_count?.trailing_days ?? 0));
  const history = trailing > 0 ? await recordedRows(store, loaded.spec.name, relation.on, relation.from, trailing) : new Map<string, number>();
  const { outcomes, dayRows } = await declarativeChecks(connection, relation, checks, columns, history);
  for (const named of checks) {
    const kind = kindOf(named.check);
    if (kind === 'unique') outcomes.push(await uniqueCheck(connection, relation, named, columns));
    if (kind === 'sql') outcomes.push(await sqlCheck(connection, relation, named));
  }
  // Recorded before the failures are cut to the few a report keeps: no refused day is recorded, however many.
  if (trailing > 0 && relation.time) await recordRows(store, loaded.spec.name, relation, dayRows, outcomes, runId);
  // The spec's order, whatever order the kinds ran in.
  const order = checks.map((c) => c.name);
  outcomes.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  return { outcomes: outcomes.map((o) => ({ ...o, failures: o.failures.slice(0, MAX_FAILURES) })), dayRows };
}

/** Outcomes as a report; a failing `error` check stops the step with a non-retryable data error naming each. */
export function reportOrFail(outcomes: CheckOutcome[], dayRows: Map<string, number>, where: string): ChecksReport {
  const failed = outcomes.filter((o) => o.status === 'failed');
  if (failed.length > 0) {
    throw dataError(`${where}: ${CHECKS_FAILED} (${failed.length} of ${outcomes.length}), so nothing ${where.startsWith('training') ? 'was trained' : 'of these days is published'}:\n${failed.map(describeOutcome).join('\n')}`);
  }
  return { status: worstState(outcomes.map((o) => o.status)), checks: outcomes, ...(dayRows.size > 0 ? { dayRows: Object.fromEntries(dayRows) } : {}) };
}

/**
 * Refuses, when the spec is loaded, an `on: extract` check naming a column extract.query does not return (with the
 * column it most likely meant). A source that cannot be read yet is left to the extract step, which says so.
 */
export async function checkExtractColumnsAtLoad(loaded: LoadedSpec): Promise<void> {
  const checks = checksOn(loaded, 'extract').filter(({ check }) => check.column !== undefined || check.unique !== undefined);
  if (checks.length === 0) return;
  const columns = await withDuckDB(
    async (connection) => {
      await createSourceViews(connection, loaded, [loaded.spec.extract.query]);
      return describeQuery(connection, `(${extractQuery(loaded)})`);
    },
    { confineTo: [] },
  ).catch(() => undefined);
  if (columns) checkColumns(checks, 'extract', columns, `${loaded.file}: `);
}
