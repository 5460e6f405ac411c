/**
 * The model registry's contract: its records, its update and query definitions, its workflow id and task
 * queue. The registry workflow (workflows/model-registry.ts), the activities that call it and the CLI share it.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ModelMetrics } from './metrics';
import type { ColumnInfo } from './artifacts';


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
  /** `code`: the SHA-256 of the training code, for a trainer that runs the spec's own (`trainer: {type: python}`). */
  dataFingerprints: { extract: string; features: string; code?: string };
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
  metrics?: ModelMetrics;
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
  /**
   * Compare-and-set: the version the alias pointed to when the decision was made (null: it pointed
   * nowhere). If it points elsewhere now, the change is refused as stale. Absent: set unconditionally.
   */
  expected?: number | null;
}

/** A model's champion, as training compares against it: one version, not the whole registry. */
export interface ChampionView {
  model: string;
  champion?: ModelVersion;
  versions: number;
}

export interface RegistryState {
  model: string;
  versions: ModelVersion[];
  aliases: Partial<Record<AliasName, number>>;
  /** The newest alias changes (at most `AUDIT_KEPT`, workflows/model-registry.ts); older ones stay in the histories of earlier runs. */
  audit: AliasChange[];
  /** Alias changes no longer in `audit` (they are in the registry's earlier runs). */
  auditArchived?: number;
  /** Results of the latest updates by update id, so a retried request is answered, not applied again, across continue-as-new too. */
  applied?: Record<string, AliasChange>;
}

export const registerVersionUpdate = defineUpdate<ModelVersion, [NewModelVersion]>('registerVersion');
export const setAliasUpdate = defineUpdate<AliasChange, [AliasRequest]>('setAlias');
export const registryStateQuery = defineQuery<RegistryState>('state');
export const championQuery = defineQuery<ChampionView>('champion');
export const versionQuery = defineQuery<ModelVersion | null, [number]>('version');

/** The task queue every model registry runs on, whatever queue the run that created it used (`SLUICE_REGISTRY_TASK_QUEUE`). */
export const DEFAULT_REGISTRY_TASK_QUEUE = 'sluice-registry';

/** The error type of a compare-and-set refused because the alias moved since the decision was made. */
export const STALE_DECISION = 'SluiceStaleDecision';

/** The registry of one model lives in the workflow with this id. */
export function registryWorkflowId(model: string): string {
  return `sluice-registry-${model}`;
}

/** The registry workflow's type name (workflows/model-registry.ts registers it under this name). */
export const REGISTRY_WORKFLOW_TYPE = 'modelRegistry';

/** The registry workflow's signature, for clients that start it by name. */
export type ModelRegistryWorkflow = (input: { model: string; state?: RegistryState }) => Promise<void>;
