import path from 'node:path';
import { withDuckDB } from '../sql/duckdb';
import { ModelRunner } from './model-runner';
import { registerScoringFunction } from './scoring-function';
import { classColumnsSql } from './score-stats';

/** The scikit-learn model of the bring-your-own fixture: 3 float features. */
const MODEL = path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'byo', 'byo-model.onnx');
const ROWS = 10_000; // several DuckDB chunks

/** Feature rows with distinct values: row i = [i % 24, 3 + (i % 7) / 3, (i % 100) / 100]. */
function matrix(rows: number): Float32Array {
  const x = new Float32Array(rows * 3);
  for (let i = 0; i < rows; i++) x.set([i % 24, 3 + (i % 7) / 3, (i % 100) / 100], i * 3);
  return x;
}
const FEATURES_SQL = `[(i % 24), 3 + (i % 7) / 3, (i % 100) / 100]::FLOAT[3]`;

describe('the DuckDB scoring function', () => {
  it('gives, row for row, the scores of ONNX Runtime on the same features', async () => {
    const runner = ModelRunner.open(MODEL, 'byo-model.onnx', 3);
    try {
      const expected = runner.score(matrix(ROWS), ROWS);
      const { scores, tally } = await withDuckDB(async (c) => {
        const tally = registerScoringFunction(c, 'score', runner);
        // a join in between, so the function also gets rows DuckDB has reordered and sliced
        const reader = await c.runAndReadAll(
          `WITH f AS (SELECT i, ${FEATURES_SQL} AS features FROM range(${ROWS}) r(i)), k AS (SELECT (i * 7919) % ${ROWS} AS i FROM range(${ROWS}) r(i))
           SELECT k.i, score(f.features) FROM k JOIN f USING (i) ORDER BY k.i`,
        );
        return { scores: reader.getRowsJS().map((r) => Number(r[1])), tally };
      });
      expect(tally).toMatchObject({ rows: ROWS, badRows: 0 });
      expect(scores).toHaveLength(ROWS);
      let worst = 0;
      for (let i = 0; i < ROWS; i++) worst = Math.max(worst, Math.abs(scores[i] - expected[i]));
      expect(worst).toBe(0);
      expect(new Set(scores.map((s) => s.toFixed(4))).size).toBeGreaterThan(100);
    } finally {
      runner.close();
    }
  });

  it('returns every class\'s probability as one array, computed once per row however many columns read it', async () => {
    const runner = ModelRunner.open(MODEL, 'byo-model.onnx', 3);
    try {
      const expected = runner.outputs(matrix(ROWS), ROWS); // [N, 2]: the two classes' probabilities
      const { rows, tally } = await withDuckDB(async (c) => {
        const tally = registerScoringFunction(c, 'score', runner, { outputs: 2 });
        const reader = await c.runAndReadAll(
          `SELECT i, ${classColumnsSql('p', ['no', 'yes'])} FROM (SELECT i, score(${FEATURES_SQL}) AS p FROM range(${ROWS}) r(i)) ORDER BY i`,
        );
        return { rows: reader.getRowsJS(), tally };
      });
      expect(tally).toMatchObject({ rows: ROWS, badRows: 0 }); // not once per column that reads the array
      let worst = 0;
      let wrongClass = 0;
      for (const [i, predicted, no, yes] of rows as Array<[bigint, string, number, number]>) {
        const k = Number(i);
        worst = Math.max(worst, Math.abs(no - expected[2 * k]), Math.abs(yes - expected[2 * k + 1]));
        if (predicted !== (expected[2 * k + 1] > expected[2 * k] ? 'yes' : 'no')) wrongClass++;
      }
      expect(rows).toHaveLength(ROWS);
      expect(worst).toBe(0);
      expect(wrongClass).toBe(0);
      expect(new Set(rows.map((r) => r[1])).size).toBe(2);
    } finally {
      runner.close();
    }
  });

  it('counts rows with a NULL array, a NULL element, NaN or infinity, per feature', async () => {
    const runner = ModelRunner.open(MODEL, 'byo-model.onnx', 3);
    try {
      const tally = await withDuckDB(async (c) => {
        const tally = registerScoringFunction(c, 'score', runner);
        await c.run(`CREATE TABLE t AS SELECT i, ${FEATURES_SQL} AS features FROM range(5000) r(i)`);
        await c.run(`UPDATE t SET features = NULL WHERE i = 10`);
        await c.run(`UPDATE t SET features = [1, NULL, 0.5]::FLOAT[3] WHERE i = 2500`);
        await c.run(`UPDATE t SET features = [1, 2, 'nan'::FLOAT]::FLOAT[3] WHERE i = 4000`);
        await c.run(`UPDATE t SET features = ['inf'::FLOAT, 2, 0.5]::FLOAT[3] WHERE i = 4999`);
        await c.run('SELECT score(features) FROM t');
        return tally;
      });
      expect(tally.rows).toBe(5000);
      expect(tally.badRows).toBe(4);
      expect(tally.badByFeature).toEqual([2, 2, 2]); // the NULL row counts for every feature
    } finally {
      runner.close();
    }
  });

  it('scores a categorical feature’s NaN (a category training never saw) as missing, counting it by the row’s group', async () => {
    const runner = ModelRunner.open(MODEL, 'byo-model.onnx', 3);
    try {
      const { tally, scored } = await withDuckDB(async (c) => {
        // feature 0 is categorical: NaN on every 1000th row; feature 2's NaN on row 7 is still refused
        const tally = registerScoringFunction(c, 'score', runner, { categorical: [true, false, false] });
        await c.run(`CREATE TABLE t AS SELECT i, i // 2000 AS day, ${FEATURES_SQL} AS features FROM range(5000) r(i)`);
        await c.run(`UPDATE t SET features = ['nan'::FLOAT, 2, 0.5]::FLOAT[3] WHERE i % 1000 = 0`);
        await c.run(`UPDATE t SET features = ['nan'::FLOAT, 2, 'nan'::FLOAT]::FLOAT[3] WHERE i = 7`);
        const reader = await c.runAndReadAll('SELECT count(score(features, day::INTEGER)) FROM t WHERE i <> 7');
        return { tally, scored: Number(reader.getRowsJS()[0][0]) };
      });
      expect(scored).toBe(4999);
      expect(tally.badRows).toBe(0); // row 7 was filtered out of this statement
      // rows 0 and 1000 are day 0, 2000 and 3000 day 1, 4000 day 2
      expect(Object.fromEntries(tally.unseen)).toEqual({ 0: [2, 0, 0], 1: [2, 0, 0], 2: [1, 0, 0] });
      const refused = await withDuckDB(async (c) => {
        const t = registerScoringFunction(c, 'score', runner, { categorical: [true, false, false] });
        await c.run(`SELECT score(['nan'::FLOAT, i, 'nan'::FLOAT]::FLOAT[3], 4) FROM range(3) r(i)`);
        return t;
      });
      expect(refused).toMatchObject({ badRows: 3, badByFeature: [0, 0, 3] });
      expect(Object.fromEntries(refused.unseen)).toEqual({ 4: [3, 0, 0] });
    } finally {
      runner.close();
    }
  });

  it('fails the statement with the very error a progress report raised', async () => {
    const runner = ModelRunner.open(MODEL, 'byo-model.onnx', 3);
    const raised = new Error('worker is shutting down');
    try {
      const outcome = await withDuckDB(async (c) => {
        const tally = registerScoringFunction(c, 'score', runner, {
          onRows: () => {
            throw raised;
          },
        });
        const failed = await c.run(`SELECT score(${FEATURES_SQL}) FROM range(100) r(i)`).then(
          () => undefined,
          (err: Error) => err,
        );
        return { failed, tally };
      });
      expect(outcome.failed?.message).toContain('worker is shutting down');
      expect(outcome.tally.error).toBe(raised);
    } finally {
      runner.close();
    }
  });
});
