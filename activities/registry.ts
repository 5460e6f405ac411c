import { Context } from '@temporalio/activity';
import { WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import {
  modelRegistry,
  registerVersionUpdate,
  registryStateQuery,
  registryWorkflowId,
  setAliasUpdate,
  type AliasChange,
  type AliasRequest,
  type ModelVersion,
  type NewModelVersion,
  type RegistryState,
} from '../workflows/model-registry';
import { modelError } from './errors';

/**
 * Registers a model version in the model's registry workflow, starting the registry if this is the
 * model's first version. Idempotent: a version with the same model fingerprint is returned as it is.
 */
export async function registerVersion(client: Client, taskQueue: string, model: string, entry: NewModelVersion): Promise<ModelVersion> {
  return client.workflow.executeUpdateWithStart(registerVersionUpdate, {
    args: [entry],
    startWorkflowOperation: new WithStartWorkflowOperation(modelRegistry, {
      workflowId: registryWorkflowId(model),
      taskQueue,
      args: [{ model }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    }),
  });
}

/** Activity: {@link registerVersion} through the worker's client, on the worker's task queue. */
export async function registerModelVersion(input: { model: string; entry: NewModelVersion }): Promise<ModelVersion> {
  const { client, info } = Context.current();
  return registerVersion(client, info.taskQueue, input.model, input.entry);
}

/** Points an alias of a model at a version (or clears it), with an audit entry. */
export async function setAlias(client: Client, model: string, request: AliasRequest): Promise<AliasChange> {
  return client.workflow.getHandle(registryWorkflowId(model)).executeUpdate(setAliasUpdate, { args: [request] });
}

/** Activity: {@link setAlias} through the worker's client; a request the registry refuses is not retried. */
export async function setModelAlias(input: { model: string; request: AliasRequest }): Promise<AliasChange> {
  try {
    return await setAlias(Context.current().client, input.model, input.request);
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw modelError(`${input.model}: ${(err.cause as Error | undefined)?.message ?? err.message}`);
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
