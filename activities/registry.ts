import { Context } from '@temporalio/activity';
import { WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
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

/**
 * Registers a model version in the model's registry workflow, starting the registry if this is the
 * model's first version. Idempotent: a version with the same model fingerprint is returned as it is.
 */
export async function registerModelVersion(input: { model: string; entry: NewModelVersion }): Promise<ModelVersion> {
  const { client, info } = Context.current();
  return client.workflow.executeUpdateWithStart(registerVersionUpdate, {
    args: [input.entry],
    startWorkflowOperation: new WithStartWorkflowOperation(modelRegistry, {
      workflowId: registryWorkflowId(input.model),
      taskQueue: info.taskQueue,
      args: [{ model: input.model }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    }),
  });
}

/** Points an alias of a model at a version (or clears it), with an audit entry. */
export async function setModelAlias(input: { model: string; request: AliasRequest }): Promise<AliasChange> {
  return Context.current().client.workflow.getHandle(registryWorkflowId(input.model)).executeUpdate(setAliasUpdate, { args: [input.request] });
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
