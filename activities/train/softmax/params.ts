import { z } from 'zod';

/** The `trainer:` section of the softmax (multinomial logistic regression) trainer. */
export const params = z
  .object({
    type: z.literal('softmax_regression'),
    l2: z.number().nonnegative().default(1e-4).describe("Per-row L2 penalty on the standardized weights (not the intercepts): scikit-learn's `C` = 1 / (l2 × fit rows)."),
    max_iterations: z.number().int().min(1).max(10_000).default(200).describe('L-BFGS iterations at most.'),
    tolerance: z.number().positive().default(1e-4).describe("Converged when no component of the penalized mean loss's gradient is larger than this (scikit-learn's `tol` for lbfgs)."),
    patience: z.number().int().min(1).default(10).describe('With early_stopping: iterations without a better holdout loss before training stops.'),
    // A convex, L2-penalized fit: scikit-learn and H2O fit it to convergence too. On seattle-weather-type's numeric
    // features the last days' holdout stopped at iteration 9, validation log loss 1.0589 against 1.0049 converged.
    early_stopping: z.boolean().default(false).describe("Hold out the training window's last days (`holdout`) and keep the iteration with the best loss on them (`patience`); false, the default: fit every training row to convergence, as scikit-learn's LogisticRegression does."),
    holdout: z.number().gt(0).lt(1).default(0.1).describe("With early_stopping: the share of the training window's last days held out (never the validation window)."),
    one_hot_top: z.number().int().min(1).max(1000).optional().describe("Categories of each categorical feature (`features.categorical`) that get an indicator of their own (20 when left out); the rarer ones, and those training never saw, are the baseline."),
  })
  .strict();

export type SoftmaxParams = z.output<typeof params>;
