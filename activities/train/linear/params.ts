import { z } from 'zod';

/** The `trainer:` section of the linear regression trainer. */
export const params = z
  .object({
    type: z.literal('linear_regression'),
    l2: z.number().nonnegative().default(1e-4).describe("Per-row L2 penalty on the standardized weights, not the intercept: ridge regression with scikit-learn's `alpha` = l2 × training rows (0: ordinary least squares)."),
    one_hot_top: z.number().int().min(1).max(1000).optional().describe("Categories of each categorical feature (`features.categorical`) that get an indicator of their own (20 when left out); the rarer ones, and those training never saw, are the baseline."),
    chunk_rows: z.number().int().min(1_000).optional().describe("Train data-parallel when the training set has more rows than this: XᵀX and Xᵀy are summed over chunks of this many rows, as parallel activities on every worker, each streaming its rows (memory per worker flat in the row count). Unset: one activity, in memory."),
  })
  .strict();

export type LinearParams = z.output<typeof params>;
