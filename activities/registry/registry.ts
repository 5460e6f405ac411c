import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import {
  championQuery,
  STALE_DECISION,
  type ChampionView,
  registerVersionUpdate,
  registryStateQuery,
  registryWorkflowId,
  setAliasUpdate,
  type AliasChange,
  type AliasRequest,
  type ModelRegistryWorkflow,
  type ModelVersion,
  type NewModelVersion,
  type RegistryState,
  REGISTRY_WORKFLOW_TYPE,
} from '../../contracts/registry';
import { modelError } from '../../contracts/errors';

/**
 * Registers a model version in the model's registry workflow, starting the registry on `registryTaskQueue`
 * if this is the model's first version. Idempotent: a version with the same model fingerprint is returned
 * as it is, and a request with an `updateId` already applied is answered, not applied again.
 */
export async function registerVersion(client: Client, registryTaskQueue: string, model: string, entry: NewModelVersion, updateId?: string): Promise<ModelVersion> {
  return client.workflow.executeUpdateWithStart(registerVersionUpdate, {
    args: [entry],
    updateId,
    startWorkflowOperation: new WithStartWorkflowOperation<ModelRegistryWorkflow>(REGISTRY_WORKFLOW_TYPE, {
      workflowId: registryWorkflowId(model),
      taskQueue: registryTaskQueue,
      args: [{ model }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    }),
  });
}

/** An update id derived from the calling step: every attempt of the same activity sends the same one, so a retry is a no-op. */
function stepUpdateId(): string {
  const { workflowExecution, activityId } = Context.current().info;
  return `${workflowExecution?.workflowId}/${workflowExecution?.runId}/${activityId}`;
}

/** Activity: {@link registerVersion} through the worker's client, the registry on its fixed task queue. */
export async function registerModelVersion(registryTaskQueue: string, input: { model: string; entry: NewModelVersion }): Promise<ModelVersion> {
  return registerVersion(Context.current().client, registryTaskQueue, input.model, input.entry, stepUpdateId());
}

/** Points an alias of a model at a version (or clears it), with an audit entry; with `request.expected`, only if the alias still points there. */
export async function setAlias(client: Client, model: string, request: AliasRequest, updateId?: string): Promise<AliasChange> {
  return client.workflow.getHandle(registryWorkflowId(model)).executeUpdate(setAliasUpdate, { args: [request], updateId });
}

/**
 * Activity: {@link setAlias} through the worker's client, exactly once per step (its update id). A request
 * the registry refuses is not retried: a stale compare-and-set is a `SluiceStaleDecision`, anything else
 * a model error.
 */
export async function setModelAlias(input: { model: string; request: AliasRequest }): Promise<AliasChange> {
  try {
    return await setAlias(Context.current().client, input.model, input.request, stepUpdateId());
  } catch (err) {
    if (!(err instanceof WorkflowUpdateFailedError)) throw err;
    const message = (err.cause as Error | undefined)?.message ?? err.message;
    if (message.startsWith(`${STALE_DECISION}: `)) throw ApplicationFailure.nonRetryable(`${input.model}: ${message.slice(STALE_DECISION.length + 2)}`, STALE_DECISION);
    throw modelError(`${input.model}: ${message}`);
  }
}

/** Activity: a model's champion and how many versions it has (not the whole registry), or null if it has no registry yet. */
export async function readChampion(input: { model: string }): Promise<ChampionView | null> {
  try {
    return await Context.current().client.workflow.getHandle(registryWorkflowId(input.model)).query(championQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/** The registry of a model, or null if it has none yet. */
export async function readRegistry(input: { model: string }): Promise<RegistryState | null> {
  return queryRegistry(Context.current().client, input.model);
}

/** Reads a model's registry through any client; null if the model has no registry yet. */
export async function queryRegistry(client: Client, model: string): Promise<RegistryState | null> {
  try {
    return await client.workflow.getHandle(registryWorkflowId(model)).query(registryStateQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/**
 * Activity: the model version to score with — the one pinned, else the champion — or a non-retryable
 * error that says what exists.
 */
export async function resolveModel(input: { model: string; version?: number }): Promise<ModelVersion> {
  const registry = await queryRegistry(Context.current().client, input.model);
  if (!registry || registry.versions.length === 0) {
    throw modelError(`no model is registered for ${input.model}: train one (trainPipeline) or register one (npm run register-model)`);
  }
  const wanted = input.version ?? registry.aliases.champion;
  if (wanted === undefined) throw modelError(`${input.model} has no champion yet (versions 1..${registry.versions.length}); promote one or pass modelVersion`);
  const version = registry.versions.find((v) => v.version === wanted);
  if (!version) throw modelError(`${input.model} has no version ${wanted} (versions 1..${registry.versions.length})`);
  return version;
}
