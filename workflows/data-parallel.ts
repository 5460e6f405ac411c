import type { FeatureSet, ModelArtifact } from '../contracts/artifacts';
import type { StepCost } from '../contracts/costs';
import type { LoadedSpec, PipelineSpec } from '../contracts/spec';
import { trainDataParallel } from './fit-logistic';
import { trainLinearDataParallel } from './fit-linear';

/** A trainer's data-parallel train step, run by the workflow: planning activities, a child workflow, an export. */
type DataParallelFit = (spec: PipelineSpec, loaded: LoadedSpec, features: FeatureSet, summary: string) => Promise<{ model: ModelArtifact; reused: boolean; cost: StepCost }>;

/**
 * The data-parallel fits by the child workflow type a trainer's descriptor names (`dataParallel.workflowType`):
 * workflow code must be bundled with the worker, so these are the one part of a trainer that lives in workflows/.
 */
const FITS: Record<string, DataParallelFit> = { fitLogistic: trainDataParallel, fitLinear: trainLinearDataParallel };

/** The data-parallel fit of `workflowType`. */
export function dataParallelFit(workflowType: string): DataParallelFit {
  const fit = FITS[workflowType];
  if (!fit) throw new Error(`no data-parallel fit ${workflowType} is bundled with this worker`);
  return fit;
}
