import { allHandlersFinished, condition, continueAsNew, defineQuery, defineUpdate, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ColumnInfo } from '../activities/artifacts';
import type { ClassificationMetrics } from '../activities/metrics';

/** One registered model version and its lineage. */
export interface ModelVersion {
  version: number;
  /** When it was registered (workflow time, ISO 8601). */
  registeredAt: string;
  /** The training run that produced it. */
  trainingWorkflowId: string;
  trainingRunId: string;
  specHash: string;
  /** Fingerprints of the data it was trained on: extract output and feature set. */
  dataFingerprints: { extract: string; features: string };
  artifactUri: string;
  modelFingerprint: string;
  featureNames: string[];
  /** The model's input schema: feature names with the DuckDB types they were trained on. */
  featureTypes?: ColumnInfo[];
  /** `external` for a model trained elsewhere and registered with its input schema. */
  origin?: 'trained' | 'external';
  description?: string;
  trainingWindow: string;
  /** Validation metrics; absent for external models until evaluated. */
  metrics?: ClassificationMetrics;
}

export type NewModelVersion = Omit<ModelVersion, 'version' | 'registeredAt'>;

export type AliasName = 'champion' | 'challenger';

/** An audited change of an alias. */
export interface AliasChange {
  alias: AliasName;
  /** The version the alias now points to, or null when it was cleared. */
  version: number | null;
  previous: number | null;
  actor: string;
  reason: string;
  at: string;
}

export interface AliasRequest {
  alias: AliasName;
  version: number | null;
  actor: string;
  reason: string;
}

export interface RegistryState {
  model: string;
  versions: ModelVersion[];
  aliases: Partial<Record<AliasName, number>>;
  audit: AliasChange[];
}

export const registerVersionUpdate = defineUpdate<ModelVersion, [NewModelVersion]>('registerVersion');
export const setAliasUpdate = defineUpdate<AliasChange, [AliasRequest]>('setAlias');
export const registryStateQuery = defineQuery<RegistryState>('state');

/** The registry of one model lives in the workflow with this id. */
export function registryWorkflowId(model: string): string {
  return `sluice-registry-${model}`;
}

/** Past this many history events the registry continues as new, carrying its state. */
const HISTORY_LIMIT = 2_000;

/**
 * The model registry as a long-lived entity workflow, one per model: versions with lineage and the
 * `champion` / `challenger` aliases, changed only through updates (validated, so a bad request leaves no
 * trace) and read through a query. Every change is an event in its history: durable and audited, with
 * no database besides Temporal's. Continues as new before its history grows large.
 */
export async function modelRegistry(input: { model: string; state?: RegistryState }): Promise<void> {
  const state: RegistryState = input.state ?? { model: input.model, versions: [], aliases: {}, audit: [] };

  setHandler(registryStateQuery, () => state);

  setHandler(registerVersionUpdate, (entry) => {
    const existing = state.versions.find((v) => v.modelFingerprint === entry.modelFingerprint);
    if (existing) return existing;
    const version: ModelVersion = { ...entry, version: state.versions.length + 1, registeredAt: new Date().toISOString() };
    state.versions.push(version);
    return version;
  });

  setHandler(
    setAliasUpdate,
    (request) => {
      const change: AliasChange = {
        ...request,
        previous: state.aliases[request.alias] ?? null,
        at: new Date().toISOString(),
      };
      if (request.version === null) delete state.aliases[request.alias];
      else state.aliases[request.alias] = request.version;
      state.audit.push(change);
      return change;
    },
    {
      validator: (request) => {
        if (request.alias !== 'champion' && request.alias !== 'challenger') throw new Error(`unknown alias "${String(request.alias)}"`);
        if (request.version !== null && !state.versions.some((v) => v.version === request.version)) {
          throw new Error(`model ${state.model} has no version ${request.version} (versions: 1..${state.versions.length})`);
        }
        if (!request.actor || !request.reason) throw new Error('an alias change needs an actor and a reason, for the audit log');
      },
    },
  );

  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_LIMIT);
  await condition(allHandlersFinished);
  await continueAsNew<typeof modelRegistry>({ model: input.model, state });
}
