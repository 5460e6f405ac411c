import { z } from 'zod';
import { defineTrainer } from '../trainer';

const params = z
  .object({
    type: z.literal('lightgbm'),
    objective: z
      .enum(['regression', 'huber', 'poisson'])
      .optional()
      .describe("A regression's loss (task: regression; `regression`, squared error, when left out): `huber` is less swayed by a long tail of large labels, `poisson` predicts counts (labels ≥ 0)."),
    trees: z.number().int().min(1).max(100_000).default(300).describe("Boosting rounds at most (early stopping may end sooner)."),
    leaves: z.number().int().min(2).max(131_072).default(63).describe('Leaves per tree at most (`num_leaves`).'),
    learning_rate: z.number().positive().max(1).default(0.1).describe('Shrinkage of each tree.'),
    min_data_in_leaf: z.number().int().min(1).default(20).describe('Rows a leaf needs at least.'),
    feature_fraction: z.number().gt(0).max(1).default(1).describe('Share of the features each tree may use.'),
    bagging_fraction: z.number().gt(0).max(1).default(1).describe('Share of the rows sampled every `bagging_freq` rounds.'),
    bagging_freq: z.number().int().min(0).default(0).describe('Rounds between two row samples (0: no bagging).'),
    l1: z.number().nonnegative().default(0).describe('L1 penalty on leaf values (`lambda_l1`).'),
    l2: z.number().nonnegative().default(0).describe('L2 penalty on leaf values (`lambda_l2`).'),
    cat_smooth: z.number().nonnegative().optional().describe('Smoothing of categorical splits (LightGBM\'s `cat_smooth`, 10 when left out): larger is more conservative with rare categories.'),
    max_bin: z.number().int().min(3).max(65_535).optional().describe("Histogram bins per feature at most (LightGBM's `max_bin`, 255 when left out): fewer bins fit faster and regularize."),
    early_stopping_rounds: z.number().int().min(1).default(30).describe("Rounds without a better holdout loss before boosting stops."),
    holdout: z.number().gt(0).lt(1).default(0.1).describe("Share of the training window's last days held out for early stopping (never the validation window)."),
    refit: z.boolean().default(true).describe("After early stopping on the holdout has chosen the number of rounds, train again on the whole training window (holdout days included) for that many rounds, so the model learns from the newest days too (about twice the fit time); `false` keeps the model early stopping chose."),
    seed: z.number().int().min(0).default(7).describe('Training is deterministic for a seed.'),
    threads: z.number().int().min(0).default(0).describe("LightGBM threads (0: every core)."),
  })
  .strict();

/**
 * Gradient-boosted trees by LightGBM on the Python worker (`lightgbm.py` beside this file), for yes/no labels and
 * numbers, exported as one ONNX TreeEnsemble and checked to score like LightGBM itself.
 */
export const trainer = defineTrainer({
  type: 'lightgbm',
  summary: 'gradient-boosted trees by LightGBM, on the Python worker (queue execution.python_task_queue)',
  params,
  tasks: ['binary', 'regression', 'multiclass'],
  taskSettings: { objective: 'regression' },
  runtime: 'python',
  progressUnit: 'round',
  categorical: 'native',
  // What `tune:` searches when its `space` is left out: FLAML's LightGBM space, narrowed to what pays off on tabular batch data.
  tuning: {
    space: {
      trees: { int: [100, 2000], log: true },
      leaves: { int: [15, 1023], log: true },
      learning_rate: { float: [0.01, 0.3], log: true },
      min_data_in_leaf: { int: [5, 500], log: true },
      feature_fraction: { float: [0.5, 1], log: false },
      max_bin: { int: [31, 255], log: true },
      l1: { float: [0.001, 10], log: true },
      l2: { float: [0.001, 10], log: true },
      cat_smooth: { float: [1, 100], log: true },
    },
  },
});
