import type { TrainInput, TrainOutput } from './trainer';

/**
 * Activities the Python worker (`workers/python`, Temporal's Python SDK) implements on its own task queue
 * (`execution.python_task_queue`, default `sluice-python`): the best library for the step is in Python. They
 * take and return the same contracts as their TypeScript siblings.
 */
export interface PythonActivities {
  /**
   * The train step of every Python trainer plug-in (`runtime: 'python'`): the module beside its descriptor trains,
   * exports one ONNX model with Sluice's metadata (checked to score like the library itself) and publishes it atomically.
   */
  trainPython(input: TrainInput): Promise<TrainOutput>;
  /** The same for LightGBM, under the name runs recorded before trainer plug-ins scheduled it by. */
  trainLightgbm(input: TrainInput): Promise<TrainOutput>;
}
