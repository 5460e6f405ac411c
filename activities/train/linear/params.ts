import { z } from 'zod';

/** The `trainer:` section of the linear regression trainer. */
export const params = z
  .object({
    type: z.literal('linear_regression'),
    l2: z.number().nonnegative().default(1e-4).describe("Per-row L2 penalty on the standardized weights, not the intercept: ridge regression with scikit-learn's `alpha` = l2 × training rows (0: ordinary least squares)."),
    one_hot_top: z.number().int().min(1).max(1000).optional().describe("Categories of each categorical feature (`features.categorical`) that get an indicator of their own (20 when left out); the rarer ones, and those training never saw, are the baseline."),
  })
  .strict();

export type LinearParams = z.output<typeof params>;
