import { continueAsNew, executeChild, workflowInfo } from '@temporalio/workflow';
import type { LogisticFitPlan } from '../activities/train/logistic/parallel-fit';
import { sumCosts, zeroCost, type StepCost } from '../contracts/costs';
import type { PipelineSpec, LoadedSpec } from '../contracts/spec';
import type { RowChunk } from '../activities/train/logistic/streaming/chunks';
import type { ChunkSumsRequest } from '../activities/train/logistic/streaming/chunk-sums';
import { addChunkSums, finishIteration, lineSearch, startIteration, startState, trainerResult, type ChunkSums, type NewtonState, type TrainerResult } from '../contracts/newton';
import { activitiesFor, count, summarized } from './activity-proxies';
import type { FeatureSet, ModelArtifact } from '../contracts/artifacts';

export interface FitLogisticInput {
  spec: PipelineSpec;
  plan: LogisticFitPlan;
  /** Where the previous run of this workflow stopped (continue-as-new), and what its chunks cost. */
  state?: NewtonState;
  cost?: StepCost;
}

/** Newton iterations per workflow run before it continues as new: each adds (2 × fit + holdout chunks) activities to the history. */
const ITERATIONS_PER_RUN = 5;

/**
 * Fits the logistic trainer data-parallel: every Newton iteration sums the gradient and Hessian over the
 * fit chunks, then the losses of the line search's eleven candidate steps over the fit and holdout
 * chunks, each chunk an activity any worker may take (it streams its rows; memory is O(K²) plus a
 * batch). The sums are added here, in chunk order, and the step is taken here (contracts/newton.ts, the
 * same arithmetic as the in-memory trainer). A worker lost mid-iteration costs its chunk's retry, not
 * the iteration; the state between iterations is K+1 numbers per vector, carried over continue-as-new.
 */
export async function fitLogistic(input: FitLogisticInput): Promise<TrainerResult & { cost: StepCost }> {
  const { spec, plan } = input;
  const { problem } = plan;
  const { training } = activitiesFor(spec);
  const costs: StepCost[] = [input.cost ?? zeroCost()];
  const sumOver = async (chunks: RowChunk[], pass: string, request: Pick<ChunkSumsRequest, 'theta' | 'trials'>): Promise<ChunkSums> => {
    const parts = await Promise.all(
      chunks.map((chunk, i) => summarized(training.logisticChunkSums, `${pass}: chunk ${i + 1} of ${chunks.length} (${count(chunk.rows)} rows)`, { trainUri: plan.trainUri, chunk, request: { ...plan.columns, ...request } })),
    );
    costs.push(...parts.map((p) => p.cost));
    return addChunkSums(parts.map((p) => p.sums));
  };
  let state = input.state ?? startState(problem, plan.positives);
  for (let done = 0, theta = startIteration(problem, state); theta; theta = startIteration(problem, state)) {
    if (done === ITERATIONS_PER_RUN) await continueAsNew<typeof fitLogistic>({ spec, plan, state, cost: sumCosts(costs) });
    const iteration = state.checkpoint.iteration + 1;
    const search = lineSearch(problem, state, await sumOver(plan.fitChunks, `iteration ${iteration}: gradient and Hessian`, { theta }));
    const [fitTrials, holdoutTrials] = await Promise.all([
      sumOver(plan.fitChunks, `iteration ${iteration}: line search`, { trials: search.candidates }),
      sumOver(plan.holdoutChunks, `iteration ${iteration}: holdout loss`, { trials: search.candidates }),
    ]);
    state = finishIteration(problem, state, search, fitTrials, holdoutTrials);
    done++;
  }
  return { ...trainerResult(state), cost: sumCosts(costs) };
}

/**
 * The train step of a logistic trainer with `chunk_rows`, data-parallel: plan the chunks (or find the
 * model an earlier run trained), fit in a child workflow, export the model. Its cost is every chunk's.
 */
export async function trainDataParallel(spec: PipelineSpec, loaded: LoadedSpec, features: FeatureSet, summary: string): Promise<{ model: ModelArtifact; reused: boolean; cost: StepCost }> {
  const { training } = activitiesFor(spec);
  const plan = await summarized(training.planLogisticFit, `${summary}: plan the chunks`, { loaded, features });
  if (plan.existing) return { model: plan.existing, reused: true, cost: zeroCost() };
  const chunks = plan.fitChunks.length + plan.holdoutChunks.length;
  const result = await executeChild(fitLogistic, {
    args: [{ spec, plan }],
    workflowId: `${workflowInfo().workflowId}-fit-${plan.fingerprint.slice(0, 12)}`,
    staticSummary: `${summary}, data-parallel over ${chunks} chunks`,
  });
  const { cost, ...fitted } = result;
  const exported = await summarized(training.exportLogisticFit, `export the model fitted on ${count(plan.problem.fitRows)} rows`, { loaded, features, plan, result: fitted });
  return { model: exported.model, reused: false, cost: sumCosts([cost, exported.cost]) };
}
