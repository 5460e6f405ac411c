import { trainLogisticModel } from '../logistic/logistic-model';
import { params, type LogisticParams } from '../logistic/params';
import { defineTrainer } from '../trainer';

/**
 * L2-penalized logistic regression by damped Newton (IRLS), every step's loss, gradient and Hessian an ONNX
 * graph run by ONNX Runtime; standardization inside the exported model. In memory in one activity, or
 * data-parallel over chunks of rows (`chunk_rows`) in the `fitLogistic` child workflow.
 */
export const trainer = defineTrainer({
  type: 'logistic_regression',
  summary: 'L2-penalized logistic regression (damped Newton in ONNX Runtime), in memory or data-parallel over chunks of rows',
  params,
  tasks: ['binary'],
  runtime: 'typescript',
  progressUnit: 'iteration',
  categorical: 'one-hot',
  dataParallel: { workflowType: 'fitLogistic', aboveRows: (p) => (p as LogisticParams).chunk_rows },
  train: (context) => trainLogisticModel(context),
});
