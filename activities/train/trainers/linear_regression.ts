import { trainLinearModel } from '../linear/linear-model';
import { params, type LinearParams } from '../linear/params';
import { defineTrainer } from '../trainer';

/**
 * Ridge regression (least squares with an L2 penalty) in closed form: the normal equations' sums in ONNX Runtime,
 * the solve in float64; standardization inside the exported model, whose output is the `prediction`. In memory in
 * one activity, or data-parallel over chunks of rows (`chunk_rows`) in the `fitLinear` child workflow.
 */
export const trainer = defineTrainer({
  type: 'linear_regression',
  summary: 'ridge regression (least squares, L2 penalty) in closed form, its sums in ONNX Runtime',
  params,
  tasks: ['regression'],
  runtime: 'typescript',
  progressUnit: 'iteration',
  categorical: 'one-hot',
  dataParallel: { workflowType: 'fitLinear', aboveRows: (p) => (p as LinearParams).chunk_rows },
  train: (context) => trainLinearModel(context),
});
