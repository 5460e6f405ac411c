import path from 'node:path';

/** Where Sluice finds Temporal and keeps its files. Every field has an environment variable. */
export interface SluiceConfig {
  /** Temporal frontend, `TEMPORAL_ADDRESS` (default `localhost:7233`). */
  address: string;
  /** Temporal namespace, `TEMPORAL_NAMESPACE` (default `default`). */
  namespace: string;
  /** Task queue the workers poll, `SLUICE_TASK_QUEUE` (default `sluice`). */
  taskQueue: string;
  /** Root folder of content-addressed artifacts, `SLUICE_ARTIFACTS` (default `.sluice/artifacts`). */
  artifactRoot: string;
  /** Temporal Web UI base address, `SLUICE_UI_URL` (default `http://localhost:8233`). */
  uiUrl: string;
}

/** Reads the configuration from the environment; relative paths are taken from the current directory. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): SluiceConfig {
  return {
    address: env.TEMPORAL_ADDRESS || 'localhost:7233',
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.SLUICE_TASK_QUEUE || 'sluice',
    artifactRoot: path.resolve(env.SLUICE_ARTIFACTS || '.sluice/artifacts'),
    uiUrl: (env.SLUICE_UI_URL || 'http://localhost:8233').replace(/\/$/, ''),
  };
}

/** The Web UI page of one workflow run. */
export function runUrl(config: SluiceConfig, workflowId: string, runId: string): string {
  return `${config.uiUrl}/namespaces/${encodeURIComponent(config.namespace)}/workflows/${encodeURIComponent(workflowId)}/${runId}/history`;
}
