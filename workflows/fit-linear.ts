import { executeChild, workflowInfo } from '@temporalio/workflow';
import type { LinearFitPlan } from '../activities/train/linear/parallel-fit';
import { sumCosts, zeroCost, type StepCost } from '../contracts/costs';
import { addChunkSums, type NormalSums } from '../contracts/newton';
import type { FeatureSet, ModelArtifact } from '../contracts/artifacts';
import type { LoadedSpec, PipelineSpec } from '../contracts/spec';
import { activitiesFor, count, summarized } from './activity-proxies';

/**
 * Sums the ridge fit's normal equations (XᵀX, Xᵀy, Σ y²) over the plan's chunks, each an activity any worker may
 * take (it streams its rows), and adds them here in chunk order (float64 addition is not associative: a retry or a
 * replay gets the same bits). One pass: the closed form needs nothing else.
 */
export async function fitLinear(input: { spec: PipelineSpec; plan: LinearFitPlan }): Promise<{ sums: NormalSums; cost: StepCost }> {
  const { spec, plan } = input;
  const { training } = activitiesFor(spec);
  const parts = await Promise.all(
    plan.chunks.map((chunk, i) =>
      summarized(training.logisticChunkSums, `normal equations: chunk ${i + 1} of ${plan.chunks.length} (${count(chunk.rows)} rows)`, { trainUri: plan.trainUri, chunk, request: { ...plan.columns, normalEquations: true } }),
    ),
  );
  const { normal } = addChunkSums(parts.map((p) => p.sums));
  if (!normal) throw new Error('fitLinear: the chunks returned no normal equations');
  return { sums: normal, cost: sumCosts(parts.map((p) => p.cost)) };
}

/**
 * The train step of a linear_regression trainer with `chunk_rows`, data-parallel: plan the chunks (or find the model
 * an earlier run trained), sum them in a child workflow, solve and export. Its cost is every chunk's.
 */
export async function trainLinearDataParallel(spec: PipelineSpec, loaded: LoadedSpec, features: FeatureSet, summary: string): Promise<{ model: ModelArtifact; reused: boolean; cost: StepCost }> {
  const { training } = activitiesFor(spec);
  const plan = await summarized(training.planLinearFit, `${summary}: plan the chunks`, { loaded, features });
  if (plan.existing) return { model: plan.existing, reused: true, cost: zeroCost() };
  const { sums, cost } = await executeChild(fitLinear, {
    args: [{ spec, plan }],
    workflowId: `${workflowInfo().workflowId}-fit-${plan.fingerprint.slice(0, 12)}`,
    staticSummary: `${summary}, data-parallel over ${plan.chunks.length} chunks`,
  });
  const exported = await summarized(training.exportLinearFit, `solve and export the model fitted on ${count(plan.rows)} rows`, { loaded, features, plan, sums });
  return { model: exported.model, reused: false, cost: sumCosts([cost, exported.cost]) };
}
