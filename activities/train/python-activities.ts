
import type { TrainInput } from './train';
import type { StepCost } from '../../contracts/costs';
import type { ModelArtifact } from '../../contracts/artifacts';

/**
 * Activities the Python worker (`workers/python`, Temporal's Python SDK) implements on its own task queue
 * (`execution.python_task_queue`, default `sluice-python`): the best library for the step is in Python. They
 * take and return the same contracts as their TypeScript siblings.
 */
export interface PythonActivities {
  /** The train step for `trainer: {type: lightgbm}`: one ONNX TreeEnsemble with Sluice's metadata, published atomically. */
  trainLightgbm(input: TrainInput): Promise<{ model: ModelArtifact; reused: boolean; cost: StepCost }>;
}
