import { z } from 'zod';
import { defineTrainer } from '../trainer';

const params = z
  .object({
    type: z.literal('lightgbm'),
    /** Boosting rounds at most (early stopping may end sooner). */
    trees: z.number().int().min(1).max(100_000).default(300),
    leaves: z.number().int().min(2).max(131_072).default(63),
    learning_rate: z.number().positive().max(1).default(0.1),
    min_data_in_leaf: z.number().int().min(1).default(20),
    feature_fraction: z.number().gt(0).max(1).default(1),
    bagging_fraction: z.number().gt(0).max(1).default(1),
    bagging_freq: z.number().int().min(0).default(0),
    l1: z.number().nonnegative().default(0),
    l2: z.number().nonnegative().default(0),
    /** Rounds without a better holdout loss before boosting stops. */
    early_stopping_rounds: z.number().int().min(1).default(30),
    /** Share of the training window's last days held out for early stopping (never the validation window). */
    holdout: z.number().gt(0).lt(1).default(0.1),
    /**
     * After early stopping has chosen the number of rounds, train again on the whole training window (holdout
     * days included) for that many rounds: the model learns from the newest days too, for twice the fit time.
     */
    refit: z.boolean().default(false),
    seed: z.number().int().min(0).default(7),
    /** LightGBM threads (0: every core). */
    threads: z.number().int().min(0).default(0),
  })
  .strict();

/**
 * Gradient-boosted trees by LightGBM on the Python worker (`lightgbm.py` beside this file), exported as one ONNX
 * TreeEnsemble by onnxmltools and checked to score like LightGBM itself.
 */
export const trainer = defineTrainer({
  type: 'lightgbm',
  summary: 'gradient-boosted trees by LightGBM, on the Python worker (queue execution.python_task_queue)',
  params,
  tasks: ['binary'],
  runtime: 'python',
  progressUnit: 'round',
});
