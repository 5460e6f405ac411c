import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { trainers } from '../train/trainers';
import { loadSpecFile, parseSpec } from './loader';

/** Inside the project (the default data root), so `extends` may read there. */
const SCRATCH = path.resolve(__dirname, '..', '..', '.sluice', 'scratch');
fs.mkdirSync(SCRATCH, { recursive: true });
afterAll(() => {
  for (const dir of fs.readdirSync(SCRATCH).filter((d) => d.startsWith('extends-'))) fs.rmSync(path.join(SCRATCH, dir), { recursive: true, force: true });
});

function failure(run: () => unknown): ApplicationFailure {
  try {
    run();
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
  throw new Error('expected a failure');
}

const valid = `
name: demo
sources:
  rows: { path: data.parquet }
extract:
  query: SELECT * FROM rows
  time_column: ts
label: { name: y, sql: v > 1 }
features:
  sql: SELECT s.y, s.v AS f FROM source s
split:
  train: { from: 2001-01-01, to: 2001-01-31 }
  validate: { from: 2001-02-01, to: 2001-02-10 }
trainer: { type: logistic_regression }
`;

describe('pipeline spec loading', () => {
  it('loads the flights spec with its defaults filled in', () => {
    const loaded = loadSpecFile('pipelines/flights.yaml');
    expect(loaded.spec.name).toBe('flights');
    expect(loaded.baseDir).toBe('pipelines');
    expect(loaded.spec.split.train).toEqual({ from: '2001-01-01', to: '2001-05-31' });
    expect(loaded.spec.promotion.mode).toBe('auto');
    expect(loaded.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the same hash for the same spec written differently', () => {
    const reordered = valid.replace('trainer: { type: logistic_regression }', 'trainer:\n  type: logistic_regression # comment');
    expect(parseSpec(reordered, 'b.yaml').hash).toBe(parseSpec(valid, 'a.yaml').hash);
  });

  it.each([
    ['a wrong trainer type', valid.replace('type: logistic_regression', 'type: catboost'), `bad.yaml:14: trainer.type: expected one of ${trainers().map((t) => JSON.stringify(t.type)).join(', ')}, got "catboost"`],
    ['an unknown field', `${valid}trainr: {}\n`, 'bad.yaml:15: (top level): unknown field `trainr`; did you mean `trainer`?'],
    ['a misspelt trainer setting', valid.replace('{ type: logistic_regression }', '{ type: logistic_regression, max_iteration: 3 }'), 'bad.yaml:14: trainer: unknown field `max_iteration`; did you mean `max_iterations`?'],
    ['an unknown field like no other', `${valid}zzzzzz: {}\n`, '(top level): unknown field `zzzzzz` (allowed here: name, description, task, sources,'],
    [
      'a time column with a space',
      valid.replace("time_column: ts", "time_column: \"Flight Date\""),
      'extract.time_column: expected a plain SQL name (letters, digits and _, not starting with a digit); rename the column in extract.query, e.g. SELECT "Flight Date" AS flight_date, …, and write flight_date here, got "Flight Date"',
    ],
    ['an impossible date', valid.replace('2001-02-10', '2001-02-30'), 'bad.yaml:13: split.validate.to: expected a real calendar date, got "2001-02-30"'],
    ['overlapping windows', valid.replace('from: 2001-02-01', 'from: 2001-01-15'), 'split.validate.from: the validation window must start after the training window ends'],
    ['a missing section', valid.replace(/extract:\n.*\n.*\n/, ''), 'bad.yaml:2: extract: is required (expected object)'],
    ['a bad label name', valid.replace('name: y,', 'name: 1y,'), 'label.name: expected a plain SQL name (letters, digits and _, not starting with a digit); use a name such as c_1y, got "1y"'],
    ['a negative penalty', valid.replace('{ type: logistic_regression }', '{ type: logistic_regression, l2: -1 }'), 'trainer.l2: Too small: expected number to be >=0, got -1'],
    ['a gate on a metric the task does not report', `${valid}gates: { rmse: { max: 18 } }\n`, 'bad.yaml:15: gates.rmse: a binary pipeline has no metric rmse; it reports auc, log_loss, accuracy, precision, recall'],
    ['a gate with neither bound', `${valid}gates: { auc: {} }\n`, 'gates.auc: expected `min`, `max` or both'],
    ['a gate whose min is above its max', `${valid}gates: { precision: { min: 0.6, max: 0.4 } }\n`, 'gates.precision: `min` is above `max`'],
    ['a misspelt gate bound', `${valid}gates: { auc: { mn: 0.6 } }\n`, 'gates.auc: unknown field `mn`; did you mean `min`?'],
    ['a champion comparison on a metric the task does not report', `${valid}promotion: { metric: macro_f1 }\n`, 'promotion.metric: a binary pipeline has no metric macro_f1; it reports auc, log_loss, accuracy, precision, recall'],
    ['invalid YAML', 'name: [demo\n', 'bad.yaml:2:1: invalid YAML:'],
    ['a list instead of a mapping', '- a\n- b\n', 'bad.yaml: a pipeline spec must be a YAML mapping'],
  ])('rejects %s with a message naming file, line and field', (_, text, message) => {
    const err = failure(() => parseSpec(text, 'bad.yaml'));
    expect(err.type).toBe('SluiceSpecError');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain(message);
  });

  it('a spec that extends another starts from its sections; each section it writes replaces the base\'s whole', () => {
    const challenger = loadSpecFile('pipelines/flights-gbdt.yaml');
    const champion = loadSpecFile('pipelines/flights.yaml');
    expect(challenger.spec.trainer.type).toBe('lightgbm');
    expect(challenger.spec.trainer).not.toHaveProperty('max_iterations');
    expect({ ...challenger.spec, trainer: champion.spec.trainer }).toEqual(champion.spec);
    expect(challenger.baseDir).toBe('pipelines');
  });

  it.each([
    ['a path instead of a file name', 'extends: ../pipelines/flights.yaml', 'base.yaml:1: extends: expected the file name of a spec in the same folder'],
    ['a missing base', 'extends: nope.yaml', 'base.yaml:1: extends: cannot read nope.yaml (ENOENT)'],
    ['itself', 'extends: base.yaml', 'base.yaml:1: extends: base.yaml → base.yaml extends itself'],
  ])('refuses extending %s', (_, text, message) => {
    const dir = fs.mkdtempSync(path.join(SCRATCH, 'extends-'));
    fs.writeFileSync(path.join(dir, 'base.yaml'), text);
    expect(failure(() => loadSpecFile(path.join(dir, 'base.yaml'))).message).toContain(message.replace('base.yaml:', `${path.join(dir, 'base.yaml')}:`));
  });

  it('names the base file for an error in a section it inherits', () => {
    const dir = fs.mkdtempSync(path.join(SCRATCH, 'extends-'));
    fs.writeFileSync(path.join(dir, 'base.yaml'), valid.replace('time_column: ts', 'time_column: 1ts'));
    fs.writeFileSync(path.join(dir, 'child.yaml'), 'extends: base.yaml\ntrainer: { type: lightgbm, trees: 0 }\n');
    const message = failure(() => loadSpecFile(path.join(dir, 'child.yaml'))).message;
    expect(message).toContain(`${path.join(dir, 'base.yaml')}:7: extract.time_column: expected a plain SQL name`);
    expect(message).toContain(`${path.join(dir, 'child.yaml')}:2: trainer.trees:`);
  });

  const regression = valid.replace('trainer: { type: logistic_regression }', 'task: regression\ntrainer: { type: lightgbm }');
  it.each([
    ['a task its trainer does not take', valid.replace('trainer: {', 'task: regression\ntrainer: {'), 'trainer.type: logistic_regression trains binary models, not regression ones (task: regression); trainers for regression: lightgbm, linear_regression, python, xgboost'],
    ['a multiclass task its trainer does not take', valid.replace('trainer: {', 'task: multiclass\ntrainer: {'), 'trainer.type: logistic_regression trains binary models, not multiclass ones (task: multiclass); trainers for multiclass: lightgbm, python, softmax_regression, xgboost'],
    ['a regression setting on a multiclass pipeline', valid.replace('trainer: { type: logistic_regression }', 'task: multiclass\ntrainer: { type: lightgbm, objective: huber }'), "trainer.objective: a setting of regression models (task: regression); this pipeline's task is multiclass"],
    ['a search on AUC for a multiclass pipeline', `${valid.replace('trainer: { type: logistic_regression }', 'task: multiclass\ntrainer: { type: lightgbm }')}tune: { trials: 2 }\n`, 'tune.metric: a multiclass pipeline has no metric auc; its search optimizes log_loss (set tune.metric)'],
    ['a setting of another task', valid.replace('{ type: logistic_regression }', '{ type: lightgbm, objective: huber }'), "trainer.objective: a setting of regression models (task: regression); this pipeline's task is binary"],
    ['a yes/no gate on a regression', `${regression}gates: { min_auc: 0.6 }\n`, 'gates.min_auc: a regression pipeline is gated by its own metrics: gates.<metric>: {min, max}, one of rmse, mae, r2, mape'],
    ['a gate on AUC for a regression', `${regression}gates: { auc: { min: 0.6 } }\n`, 'gates.auc: a regression pipeline has no metric auc; it reports rmse, mae, r2, mape'],
    ['a search on AUC for a regression', `${regression}tune: { trials: 2 }\n`, 'tune.metric: a regression pipeline has no metric auc; its search optimizes rmse or mae (set tune.metric)'],
    ['an unknown task', valid.replace('trainer: {', 'task: ranking\ntrainer: {'), 'task: expected one of "binary", "regression", "multiclass", got "ranking"'],
  ])('refuses %s, naming what would do', (_, text, message) => {
    expect(failure(() => parseSpec(text, 'bad.yaml')).message).toContain(message);
  });

  it('takes a regression with its own gates, champion metric and search metric', () => {
    const loaded = parseSpec(`${regression}gates: { rmse: { max: 18 }, r2: { min: 0.05 } }\npromotion: { metric: mae, tolerance: 0.1 }\ntune: { trials: 2, metric: rmse }\n`, 'r.yaml');
    expect(loaded.spec.task).toBe('regression');
    expect(loaded.spec.gates.rmse).toEqual({ max: 18 });
    expect(loaded.spec.promotion.metric).toBe('mae');
    expect(loaded.spec.tune?.metric).toBe('rmse');
  });

  it('gates any metric the task reports by name, and leaves the hash of a spec without them unchanged', () => {
    const gated = parseSpec(`${valid}gates: { precision: { min: 0.3 }, auc: { min: 0.6, max: 0.99 } }\npromotion: { metric: log_loss, tolerance: 0.002 }\n`, 'gated.yaml').spec;
    expect(gated.gates.precision).toEqual({ min: 0.3 });
    expect(gated.gates.auc).toEqual({ min: 0.6, max: 0.99 });
    expect(gated.promotion.metric).toBe('log_loss');
    expect(parseSpec(valid, 'a.yaml').spec.gates).toEqual({ beat_baseline: true });
  });

  it('refuses a data check that is not one well-formed expectation, naming the field', () => {
    const message = (checks: string) => failure(() => parseSpec(`${valid}checks:\n${checks}`, 'pipelines/demo.yaml')).message;
    expect(message('  d: { range: { min: 10, max: 1 }, column: v }')).toMatch(/^pipelines\/demo\.yaml:\d+: checks\.d\.range: `min` is above `max`$/);
    expect(message('  d: { row_count: { min: 10, max: 1 } }')).toMatch(/checks\.d\.row_count: `min` is above `max`/);
    expect(message('  d: { row_count: { trailing_days: 7 } }')).toMatch(/checks\.d\.row_count: `trailing_days` and `within_pct` go together/);
    expect(message('  d: { not_null: true }')).toMatch(/checks\.d\.column: is required: the column not_null tests/);
    expect(message('  d: { unique: [v], column: v }')).toMatch(/checks\.d\.column: unique tests no single column; leave column out/);
    expect(message('  d: { not_null: true, range: { max: 3 }, column: v }')).toMatch(/checks\.d: holds not_null and range: write one check each/);
    expect(message('  d: { column: v }')).toMatch(/checks\.d: expected one of not_null, max_null_share, range, allowed, unique, row_count, sql/);
    expect(message('  d: { not_nul: true, column: v }')).toMatch(/checks\.d: unknown field `not_nul`; did you mean `not_null`\?/);
    expect(message('  d: { max_null_share: 1.5, column: v }')).toMatch(/checks\.d\.max_null_share: /);
    expect(message('  d: { not_null: true, column: v, severity: fatal }')).toMatch(/checks\.d\.severity: expected one of "error", "warn", got "fatal"/);
  });

  it('says which file it cannot read', () => {
    expect(failure(() => loadSpecFile('pipelines/nope.yaml')).message).toBe('pipelines/nope.yaml: cannot read the pipeline spec (ENOENT)');
  });
});
