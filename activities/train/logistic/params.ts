import { z } from 'zod';

/** The `trainer:` section of the logistic trainer. */
export const params = z
  .object({
    type: z.literal('logistic_regression'),
    /** Per-row L2 penalty on the standardized weights (not the intercept). */
    l2: z.number().nonnegative().default(1e-4),
    /** Newton iterations at most. */
    max_iterations: z.number().int().min(1).max(1000).default(30),
    /** Converged when an iteration improves the training loss by less than this. */
    tolerance: z.number().positive().default(1e-6),
    /** Iterations without a better holdout loss before training stops. */
    patience: z.number().int().min(1).default(2),
    /** Share of the training window's last days held out for early stopping (never the validation window). */
    holdout: z.number().gt(0).lt(1).default(0.1),
    /**
     * Train data-parallel when the training set has more rows than this: each Newton iteration sums the
     * gradient and Hessian over chunks of this many rows, as parallel activities on every worker, each
     * streaming its rows (memory per worker flat in the row count). Unset: one activity, in memory.
     */
    chunk_rows: z.number().int().min(1_000).optional(),
  })
  .strict();

export type LogisticParams = z.output<typeof params>;
