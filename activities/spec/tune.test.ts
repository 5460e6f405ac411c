import { ApplicationFailure } from '@temporalio/common';
import { budgetStop, type TrialRecord } from '../../contracts/tuning';
import { zeroCost } from '../../contracts/costs';
import { parseSpec } from './loader';

/** `tune:` at load: the default space filled in, and every bad search refused with the field and the reason. */
const base = (trainer: string, tune: string) => `
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
trainer: ${trainer}
tune:
${tune}
`;

function refusal(text: string): string {
  try {
    parseSpec(text, 'tune.yaml');
  } catch (err) {
    if (err instanceof ApplicationFailure && err.type === 'SluiceSpecError') return err.message;
    throw err;
  }
  throw new Error('expected the spec to be refused');
}

describe('tune: at load', () => {
  it("fills in the trainer's default space when space is left out, and keeps a written one", () => {
    const loaded = parseSpec(base('{ type: lightgbm }', '  trials: 10'), 'tune.yaml');
    expect(loaded.spec.tune).toMatchObject({ trials: 10, parallel: 1, metric: 'auc', sampler: 'tpe', pruning: 'none' });
    expect(Object.keys(loaded.spec.tune!.space!)).toEqual(expect.arrayContaining(['trees', 'leaves', 'learning_rate', 'min_data_in_leaf', 'feature_fraction', 'max_bin', 'l1', 'l2', 'cat_smooth']));
    const written = parseSpec(base('{ type: xgboost }', '  space: { max_depth: { int: [3, 8] } }'), 'tune.yaml');
    expect(written.spec.tune!.space).toEqual({ max_depth: { int: [3, 8] } });
  });

  it.each([
    ['a setting the trainer does not have', '{ type: lightgbm }', '  space: { lerning_rate: { float: [0.01, 0.3] } }', /tune\.space\.lerning_rate: lightgbm has no setting lerning_rate to search \(did you mean learning_rate\?\); it has objective, trees, leaves, /],
    ['a range with low above high', '{ type: lightgbm }', '  space: { leaves: { int: [255, 15] } }', /tune\.yaml:\d+: tune\.space\.leaves: the range's low bound 255 is above its high bound 15/],
    ['a log range that reaches 0', '{ type: lightgbm }', '  space: { l1: { float: [0, 10], log: true } }', /tune\.space\.l1: a log range must stay above 0; this one reaches 0/],
    ['parallel above trials', '{ type: lightgbm }', '  trials: 3\n  parallel: 4', /tune\.parallel: 4 trials at once is more than the 3 trials of the search/],
    ['a metric the task does not report', '{ type: lightgbm }', '  metric: rmse', /tune\.metric: .*auc.*log_loss/],
    ['a value the trainer refuses', '{ type: lightgbm }', '  space: { feature_fraction: { float: [0.5, 1.5] } }', /tune\.space\.feature_fraction: 1\.5 is not a valid trainer\.feature_fraction for lightgbm/],
    ['a whole-number setting given a fraction', '{ type: xgboost }', '  space: { max_depth: { float: [2, 8.5] } }', /tune\.space\.max_depth: 8\.5 is not a valid trainer\.max_depth for xgboost/],
    ['a range of no known kind', '{ type: lightgbm }', '  space: { leaves: { range: [1, 15] } }', /tune\.space\.leaves: unknown field `range` \(allowed here: float, int, choice, log\)/],
    ['a range of two kinds', '{ type: lightgbm }', '  space: { leaves: { int: [1, 15], choice: [3] } }', /tune\.space\.leaves: expected exactly one of float: \[low, high\], int: \[low, high\] or choice: \[a, b, …\], got int and choice/],
    ['a fraction in an int range', '{ type: lightgbm }', '  space: { leaves: { int: [1.5, 15] } }', /tune\.space\.leaves\.int\.0: /],
    ['a trainer that cannot be searched', '{ type: logistic_regression }', '  trials: 5', /tune: trainer\.type logistic_regression cannot be searched \(it declares no space\); tune works with lightgbm, xgboost/],
  ])('refuses %s', (_what, trainer, tune, message) => {
    expect(refusal(base(trainer, tune))).toMatch(message);
  });
});

describe('the search budget', () => {
  const trial = (cpuSeconds: number, reused = false): TrialRecord => ({ number: 1, params: {}, state: 'complete', value: 0.7, reused, cost: { ...zeroCost(), cpuSeconds, wallSeconds: cpuSeconds } });

  it('always starts the first trial, then none that with the final fit would pass the budget', () => {
    expect(budgetStop({ maxCpuSeconds: 1 }, { cpuSeconds: 5, trainingSeconds: 0 }, [], 0)).toBeUndefined();
    // 10 spent + one more trial (10) + the final fit and what follows it (1.5 × the best trial, 15) = 35.
    expect(budgetStop({ maxCpuSeconds: 35 }, { cpuSeconds: 10, trainingSeconds: 10 }, [trial(10)], 0)).toBeUndefined();
    expect(budgetStop({ maxCpuSeconds: 34 }, { cpuSeconds: 10, trainingSeconds: 10 }, [trial(10)], 0)).toMatch(/^budget\.max_cpu_seconds: 10\.0 CPU seconds used of 34; another trial \(about 10\.0\) and the final fit \(about 15\.0\) would pass it$/);
    // A running trial counts too, and the training-time limit is checked the same way.
    expect(budgetStop({ maxCpuSeconds: 35 }, { cpuSeconds: 10, trainingSeconds: 10 }, [trial(10)], 1)).toMatch(/max_cpu_seconds/);
    expect(budgetStop({ maxTrainingSeconds: 35 }, { cpuSeconds: 0, trainingSeconds: 10 }, [trial(10)], 0)).toBeUndefined();
    expect(budgetStop({ maxTrainingSeconds: 34 }, { cpuSeconds: 0, trainingSeconds: 10 }, [trial(10)], 0)).toMatch(/^budget\.max_training_time: /);
  });

  it('reserves the final fit of the best configuration, or of the mean trial when that costs more', () => {
    const cheapBest = { ...trial(5), value: 0.8 };
    // Spent 35: one more trial (mean 17.5) and the final fit (the mean costs more than the best: 1.5 × 17.5) = 78.75.
    expect(budgetStop({ maxCpuSeconds: 79 }, { cpuSeconds: 35, trainingSeconds: 35 }, [cheapBest, trial(30)], 0, cheapBest)).toBeUndefined();
    expect(budgetStop({ maxCpuSeconds: 78 }, { cpuSeconds: 35, trainingSeconds: 35 }, [cheapBest, trial(30)], 0, cheapBest)).toMatch(/final fit \(about 26\.3\)/);
    // A costly best is reserved whole.
    const costlyBest = { ...trial(30), value: 0.8 };
    expect(budgetStop({ maxCpuSeconds: 97 }, { cpuSeconds: 35, trainingSeconds: 35 }, [trial(5), costlyBest], 0, costlyBest)).toMatch(/final fit \(about 45\.0\)/);
  });

  it('estimates a new trial from the trials trained in this run, not from reused ones', () => {
    expect(budgetStop({ maxCpuSeconds: 34 }, { cpuSeconds: 10, trainingSeconds: 0 }, [trial(0.01, true), trial(10)], 0)).toMatch(/about 10\.0/);
  });
});
