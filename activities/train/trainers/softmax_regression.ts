import { trainSoftmaxModel } from '../softmax/softmax-model';
import { params } from '../softmax/params';
import { defineTrainer } from '../trainer';

/**
 * Multinomial logistic regression: a softmax over one linear predictor per class, fitted by L-BFGS with the loss
 * and gradient of every step an ONNX graph run by ONNX Runtime; standardization inside the exported model, whose
 * output is `probabilities` [batch, classes].
 */
export const trainer = defineTrainer({
  type: 'softmax_regression',
  summary: 'multinomial logistic regression (a softmax over linear predictors, L-BFGS in ONNX Runtime)',
  params,
  tasks: ['multiclass'],
  runtime: 'typescript',
  progressUnit: 'iteration',
  categorical: 'one-hot',
  train: (context) => trainSoftmaxModel(context),
});
