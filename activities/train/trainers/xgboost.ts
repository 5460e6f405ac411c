import { z } from 'zod';
import { defineTrainer } from '../trainer';

const params = z
  .object({
    type: z.literal('xgboost'),
    objective: z
      .enum(['regression', 'huber', 'poisson'])
      .optional()
      .describe("A regression's loss (task: regression; `regression`, squared error, when left out): `huber` (XGBoost's pseudo-Huber) is less swayed by a long tail of large labels, `poisson` predicts counts (labels ≥ 0)."),
    trees: z.number().int().min(1).max(100_000).default(300).describe("Boosting rounds at most (early stopping may end sooner)."),
    max_depth: z.number().int().min(1).max(64).default(6).describe("Depth of each tree (XGBoost's `max_depth`)."),
    learning_rate: z.number().positive().max(1).default(0.1).describe('Shrinkage of each tree (`eta`).'),
    min_child_weight: z.number().nonnegative().default(1).describe("Least sum of instance weight (hessian) in a child (`min_child_weight`)."),
    subsample: z.number().gt(0).max(1).default(1).describe("Share of the rows sampled for each tree."),
    colsample_bytree: z.number().gt(0).max(1).default(1).describe("Share of the features sampled for each tree (`colsample_bytree`)."),
    l1: z.number().nonnegative().default(0).describe("L1 penalty on leaf weights (`reg_alpha`)."),
    l2: z.number().nonnegative().default(1).describe("L2 penalty on leaf weights (`reg_lambda`)."),
    gamma: z.number().nonnegative().default(0).describe("Least loss reduction to split a leaf further (`gamma`)."),
    max_bin: z.number().int().min(2).max(65_535).default(256).describe("Histogram bins per feature (the `hist` tree method)."),
    early_stopping_rounds: z.number().int().min(1).default(30).describe("Rounds without a better holdout loss before boosting stops."),
    holdout: z.number().gt(0).lt(1).default(0.1).describe("Share of the training window's last days held out for early stopping (never the validation window)."),
    refit: z.boolean().default(true).describe("After early stopping on the holdout has chosen the number of rounds, train again on the whole training window (holdout days included) for that many rounds, so the model learns from the newest days too (about twice the fit time); `false` keeps the model early stopping chose."),
    seed: z.number().int().min(0).default(7).describe('Random seed of row and column sampling.'),
    threads: z.number().int().min(0).default(0).describe("XGBoost threads (0: every core)."),
  })
  .strict();

/**
 * Gradient-boosted trees by XGBoost (the `hist` method) on the Python worker (`xgboost.py` beside this file),
 * exported as one ONNX TreeEnsemble by onnxmltools and checked to score like XGBoost itself.
 */
export const trainer = defineTrainer({
  type: 'xgboost',
  summary: 'gradient-boosted trees by XGBoost (hist), on the Python worker (queue execution.python_task_queue)',
  params,
  tasks: ['binary', 'regression', 'multiclass'],
  taskSettings: { objective: 'regression' },
  runtime: 'python',
  progressUnit: 'round',
  categorical: 'native',
  // What `tune:` searches when its `space` is left out.
  tuning: {
    space: {
      trees: { int: [100, 2000], log: true },
      max_depth: { int: [3, 12], log: false },
      learning_rate: { float: [0.01, 0.3], log: true },
      min_child_weight: { float: [0.5, 50], log: true },
      subsample: { float: [0.5, 1], log: false },
      colsample_bytree: { float: [0.5, 1], log: false },
      max_bin: { int: [63, 511], log: true },
      l1: { float: [0.001, 10], log: true },
      l2: { float: [0.001, 10], log: true },
    },
  },
});
