import { z } from 'zod';

/** The `trainer:` section of the logistic trainer. */
export const params = z
  .object({
    type: z.literal('logistic_regression'),
    l2: z.number().nonnegative().default(1e-4).describe("Per-row L2 penalty on the standardized weights (not the intercept)."),
    max_iterations: z.number().int().min(1).max(1000).default(30).describe("Newton iterations at most."),
    tolerance: z.number().positive().default(1e-6).describe("Converged when an iteration improves the training loss by less than this."),
    patience: z.number().int().min(1).default(2).describe("Iterations without a better holdout loss before training stops."),
    holdout: z.number().gt(0).lt(1).default(0.1).describe("Share of the training window's last days held out for early stopping (never the validation window)."),
    one_hot_top: z.number().int().min(1).max(1000).optional().describe("Categories of each categorical feature (`features.categorical`) that get an indicator of their own (20 when left out); the rarer ones, and those training never saw, are the baseline."),
    chunk_rows: z.number().int().min(1_000).optional().describe("Train data-parallel when the training set has more rows than this: each Newton iteration sums the gradient and Hessian over chunks of this many rows, as parallel activities on every worker, each streaming its rows (memory per worker flat in the row count). Unset: one activity, in memory."),
  })
  .strict();

export type LogisticParams = z.output<typeof params>;
