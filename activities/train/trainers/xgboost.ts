import { z } from 'zod';
import { defineTrainer } from '../trainer';

const params = z
  .object({
    type: z.literal('xgboost'),
    /** Boosting rounds at most (early stopping may end sooner). */
    trees: z.number().int().min(1).max(100_000).default(300),
    /** Depth of each tree (XGBoost's `max_depth`). */
    max_depth: z.number().int().min(1).max(64).default(6),
    learning_rate: z.number().positive().max(1).default(0.1),
    /** Least sum of instance weight (hessian) in a child (`min_child_weight`). */
    min_child_weight: z.number().nonnegative().default(1),
    /** Share of the rows sampled for each tree. */
    subsample: z.number().gt(0).max(1).default(1),
    /** Share of the features sampled for each tree (`colsample_bytree`). */
    colsample_bytree: z.number().gt(0).max(1).default(1),
    /** L1 penalty on leaf weights (`reg_alpha`). */
    l1: z.number().nonnegative().default(0),
    /** L2 penalty on leaf weights (`reg_lambda`). */
    l2: z.number().nonnegative().default(1),
    /** Least loss reduction to split a leaf further (`gamma`). */
    gamma: z.number().nonnegative().default(0),
    /** Histogram bins per feature (the `hist` tree method). */
    max_bin: z.number().int().min(2).max(65_535).default(256),
    /** Rounds without a better holdout loss before boosting stops. */
    early_stopping_rounds: z.number().int().min(1).default(30),
    /** Share of the training window's last days held out for early stopping (never the validation window). */
    holdout: z.number().gt(0).lt(1).default(0.1),
    /** After early stopping has chosen the rounds, train again on the whole training window for that many. */
    refit: z.boolean().default(false),
    seed: z.number().int().min(0).default(7),
    /** XGBoost threads (0: every core). */
    threads: z.number().int().min(0).default(0),
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
  tasks: ['binary'],
  runtime: 'python',
  progressUnit: 'round',
});
