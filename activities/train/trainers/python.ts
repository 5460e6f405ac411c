import { z } from 'zod';
import { defineTrainer } from '../trainer';

const params = z
  .object({
    type: z.literal('python'),
    module: z.string().min(1).describe('The Python file of the training function, relative to the spec, inside the code roots (`SLUICE_CODE_ROOTS`; by default `pipelines/`). Its content is part of the train step\'s fingerprint: changed code retrains.'),
    function: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected the name of a Python function').default('train').describe('The function: `train(data, params, context)`, returning a fitted scikit-learn, LightGBM or XGBoost model, or an ONNX ModelProto (see docs/python-trainers.md).'),
    params: z.record(z.string(), z.unknown()).default({}).describe('Settings passed to the function as `params`, as written.'),
    holdout: z.number().gt(0).lt(1).default(0.1).describe("Share of the training window's last days given to the function as its holdout (`data.x_holdout`), for early stopping; never the validation window."),
  })
  .strict();

/**
 * The spec's own Python training function, run on the Python worker (`python.py` beside this file): it gets the
 * training rows and a holdout, and a context to heartbeat, checkpoint and learn of cancellation through; Sluice
 * converts what it returns to ONNX, checks the export against the model's own predictions, and registers it.
 */
export const trainer = defineTrainer({
  type: 'python',
  summary: 'your own Python function (`module`, `function`): a scikit-learn, LightGBM or XGBoost model, or ONNX, that Sluice converts, checks and registers, on the Python worker',
  params,
  tasks: ['binary', 'regression', 'multiclass'],
  runtime: 'python',
  progressUnit: 'iteration',
  // The codes of the training window's dictionary reach the function as numbers, with their columns named (data.categorical).
  categorical: 'native',
  codeSetting: 'module',
});
