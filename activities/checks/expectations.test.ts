import { ApplicationFailure } from '@temporalio/common';
import { checkSchema, describeOutcome, type CheckSpec } from '../../contracts/checks';
import { withDuckDB } from '../sql/duckdb';
import { checkColumns, declarativeChecks, sqlCheck, uniqueCheck, type CheckedRelation, type NamedCheck } from './expectations';
import { reportOrFail } from './run-checks';
import { trailingFailures } from './trailing';

/**
 * Ten days of 100 rows (2001-03-01 .. 2001-03-10), but 2001-03-08 has 40; `id` repeats once on 2001-03-09;
 * `distance` is 100 + i % 50, with one row of 9000 on 2001-03-05; `kind` is a, b or c, with one `z` on
 * 2001-03-06; `delay` is NULL on every other row of 2001-03-07.
 */
const ROWS = `
  CREATE TABLE flights AS
  WITH days AS (SELECT d, DATE '2001-03-01' + d::INTEGER AS day, CASE WHEN d = 7 THEN 40 ELSE 100 END AS n FROM range(10) t(d))
  SELECT day + INTERVAL (i) MINUTE AS ts, d * 1000 + i AS id,
         CASE WHEN d = 4 AND i = 3 THEN 9000 ELSE 100 + i % 50 END AS distance,
         CASE WHEN d = 5 AND i = 0 THEN 'z' ELSE ['a', 'b', 'c'][1 + i % 3] END AS kind,
         CASE WHEN d = 6 AND i % 2 = 0 THEN NULL ELSE i::DOUBLE END AS delay
  FROM days, range(100) r(i) WHERE i < n
  UNION ALL SELECT TIMESTAMP '2001-03-09 12:00:00', 8005, 120, 'a', 1.0`;

const relation: CheckedRelation = { on: 'extract', sql: 'flights', time: 'ts', from: '2001-03-03', to: '2001-03-10' };

const check = (written: Record<string, unknown>): CheckSpec => checkSchema.parse(written);
const named = (checks: Record<string, Record<string, unknown>>): NamedCheck[] => Object.entries(checks).map(([name, c]) => ({ name, check: check(c) }));

async function run(checks: NamedCheck[], history = new Map<string, number>()) {
  return withDuckDB(async (c) => {
    await c.run(ROWS);
    const columns = (await c.runAndReadAll('DESCRIBE flights')).getRowObjectsJS().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
    checkColumns(checks, 'extract', columns);
    const { outcomes, dayRows } = await declarativeChecks(c, relation, checks, columns, history);
    for (const n of checks) {
      if (n.check.unique) outcomes.push(await uniqueCheck(c, relation, n, columns));
      if (n.check.sql) outcomes.push(await sqlCheck(c, relation, n));
    }
    return { outcomes, dayRows };
  });
}

describe('data checks on real DuckDB rows', () => {
  it('passes every kind of check on rows that meet it, in one pass for the declarative ones', async () => {
    const { outcomes, dayRows } = await run(
      named({
        ids: { not_null: true, column: 'id' },
        delay_nulls: { max_null_share: 0.6, column: 'delay' },
        distance: { range: { min: 0, max: 10000 }, column: 'distance' },
        kinds: { allowed: ['a', 'b', 'c', 'z'], column: 'kind' },
        rows: { row_count: { min: 10, max: 200 } },
        no_negative: { sql: 'SELECT * FROM checked WHERE distance < 0' },
      }),
    );
    expect(outcomes.map((o) => [o.name, o.status])).toEqual([
      ['ids', 'passed'],
      ['delay_nulls', 'passed'],
      ['distance', 'passed'],
      ['kinds', 'passed'],
      ['rows', 'passed'],
      ['no_negative', 'passed'],
    ]);
    // Every day's rows, the history before the checked days included.
    expect(dayRows.get('2001-03-01')).toBe(100);
    expect(dayRows.get('2001-03-08')).toBe(40);
    expect(dayRows.get('2001-03-09')).toBe(101);
    expect(outcomes.find((o) => o.name === 'distance')?.observed).toBe('distance 100 .. 9000');
  });

  it('fails each kind of check on the day that breaks it, with what it saw against the bound', async () => {
    const { outcomes } = await run(
      named({
        delay: { not_null: true, column: 'delay' },
        distance: { range: { max: 5000 }, column: 'distance' },
        kinds: { allowed: ['a', 'b', 'c'], column: 'kind', severity: 'warn' },
        daily_rows: { row_count: { trailing_days: 7, within_pct: 30 } },
        keys: { unique: ['id'] },
        far: { sql: 'SELECT id, kind, distance FROM checked WHERE distance > 5000' },
      }),
    );
    const by = (name: string) => outcomes.find((o) => o.name === name);
    expect(by('delay')).toMatchObject({ status: 'failed', failed: 1, failures: [{ day: '2001-03-07', observed: '50 of 100 rows NULL (50.0 %)', bound: 'no NULL' }] });
    expect(by('distance')).toMatchObject({ status: 'failed', failures: [{ day: '2001-03-05', observed: '1 of 100 rows outside (min 100, max 9000)', bound: 'at most 5000' }] });
    expect(by('kinds')).toMatchObject({ status: 'warned', failures: [{ day: '2001-03-06', observed: '1 rows with 1 value not allowed' }] });
    // 2001-03-08's 40 rows against the median 100 of the 7 days before; the day after (101, median 100) passes.
    expect(by('daily_rows')?.failures).toEqual([{ day: '2001-03-08', observed: '40 rows (-60.0 % against the trailing 7 days\' median 100)', bound: '70 .. 130 (within 30 % of the median)' }]);
    expect(by('keys')).toMatchObject({ status: 'failed', failures: [{ observed: '1 keys shared by 2 rows', rows: [{ id: 8005, rows: 2 }] }] });
    // Text values are masked in the rows a failure shows; numbers are not.
    expect(by('far')).toMatchObject({ status: 'failed', failures: [{ observed: '1 offending rows', rows: [{ id: 4003, kind: '…', distance: 9000 }] }] });
    expect(describeOutcome(by('delay') ?? outcomes[0])).toBe('check delay (not_null of `delay` on extract): 2001-03-07: 50 of 100 rows NULL (50.0 %), expected no NULL');
  });

  it('stops with a non-retryable error naming every failed check, and reports warnings', async () => {
    const { outcomes, dayRows } = await run(named({ distance: { range: { max: 5000 }, column: 'distance' }, kinds: { allowed: ['a', 'b', 'c'], column: 'kind', severity: 'warn' } }));
    let error: unknown;
    try {
      reportOrFail(outcomes, dayRows, 'training flights (2001-03-03 .. 2001-03-10)');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as ApplicationFailure).message).toBe(
      'training flights (2001-03-03 .. 2001-03-10): data checks failed (1 of 2), so nothing was trained:\ncheck distance (range of `distance` on extract): 2001-03-05: 1 of 100 rows outside (min 100, max 9000), expected at most 5000',
    );
    const warned = reportOrFail(outcomes.filter((o) => o.name === 'kinds'), dayRows, 'training flights');
    expect(warned.status).toBe('warned');
  });

  it('reads recorded history for the days before the run, and says when there is none yet', async () => {
    const tight = named({ daily_rows: { row_count: { trailing_days: 3, within_pct: 10 } } });
    // The data starts on the first checked day; an earlier run recorded 300 rows for the day before.
    const first = await withDuckDB(async (c) => {
      await c.run(ROWS);
      const columns = [{ name: 'ts', type: 'TIMESTAMP' }];
      return declarativeChecks(c, { ...relation, sql: "(SELECT * FROM flights WHERE ts >= DATE '2001-03-03')" }, tight, columns, new Map([['2001-03-02', 300]]));
    });
    // 2001-03-03 has one day of history (it needs 2 of 3); 2001-03-04's median is 200 (the recorded 300 and 100), so
    // its 100 rows fail; later days have the data's own days before them, and 2001-03-08 (40) fails.
    expect(first.outcomes[0].failures.map((f) => [f.day, f.observed])).toEqual([
      ['2001-03-04', "100 rows (-50.0 % against the trailing 2 days' median 200)"],
      ['2001-03-08', "40 rows (-60.0 % against the trailing 3 days' median 100)"],
    ]);
    const none = trailingFailures(['2001-03-03'], new Map([['2001-03-03', 100]]), 7, 30);
    expect(none).toEqual({ failures: [], checked: 0, withoutHistory: ['2001-03-03'] });
    const alone = await withDuckDB(async (c) => {
      await c.run(ROWS);
      return declarativeChecks(c, { ...relation, sql: "(SELECT * FROM flights WHERE ts >= DATE '2001-03-10')", from: '2001-03-10' }, tight, [{ name: 'ts', type: 'TIMESTAMP' }], new Map());
    });
    expect(alone.outcomes[0]).toMatchObject({ status: 'no-history' });
    expect(describeOutcome(alone.outcomes[0])).toMatch(/no history yet/);
  });

  it('refuses a check on a column that does not exist, with the column it most likely meant', async () => {
    await expect(run(named({ d: { range: { max: 5000 }, column: 'distanse' } }))).rejects.toThrow(
      'checks.d.column: `distanse` is not a column of the rows extract.query returns; did you mean `distance`? (columns: ts, id, distance, kind, delay; a feature column is checked with on: features)',
    );
    await expect(run(named({ k: { unique: ['idd'] } }))).rejects.toThrow(/checks\.k\.unique: `idd` is not a column .* did you mean `id`\?/);
    await expect(run(named({ r: { range: { max: 5 }, column: 'kind' } }))).rejects.toThrow('checks.r.range: `kind` is VARCHAR; a range checks a numeric column');
  });
});
