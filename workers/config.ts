import fs from 'node:fs';
import path from 'node:path';
import type { TLSConfig } from '@temporalio/client';
import { DEFAULT_REGISTRY_TASK_QUEUE } from '../contracts/registry';
import { codecKeysFrom, type CodecKeys } from './codec/codec-keys';

/** Where Sluice finds Temporal and keeps its files. Every field has an environment variable. */
export interface SluiceConfig {
  /** Temporal frontend, `TEMPORAL_ADDRESS` (default `localhost:7233`). */
  address: string;
  /** Temporal namespace, `TEMPORAL_NAMESPACE` (default `default`). */
  namespace: string;
  /** Task queue the workers poll, `SLUICE_TASK_QUEUE` (default `sluice`). */
  taskQueue: string;
  /** Task queue every model registry runs on, `SLUICE_REGISTRY_TASK_QUEUE` (default `sluice-registry`); workers poll it too. */
  registryTaskQueue?: string;
  /**
   * Root folder of content-addressed artifacts, `SLUICE_ARTIFACTS` (default `.sluice/artifacts`). When
   * `SLUICE_ARTIFACTS` is an `s3://bucket/prefix` address, the artifacts live there ({@link artifactRemote}) and
   * this folder is the worker's local cache of them, `SLUICE_CACHE` (default `.sluice/cache`).
   */
  artifactRoot: string;
  /** The S3 location of the artifacts, when `SLUICE_ARTIFACTS` is `s3://bucket/prefix`; endpoint, region and credentials from the standard AWS variables. */
  artifactRemote?: string;
  /** Most bytes the local cache of a remote artifact store keeps, `SLUICE_CACHE_MAX_GB` (default 20). */
  cacheBytes?: number;
  /** Activities one worker process runs at once, `SLUICE_WORKER_ACTIVITIES` (default 4). */
  maxConcurrentActivities?: number;
  /**
   * Seconds a stopping worker (SIGINT / SIGTERM) lets its activities finish before it cancels them, so that they
   * end with their heartbeat checkpoint, `SLUICE_WORKER_DRAIN_SECONDS` (default 0: cancelled at once).
   */
  drainSeconds?: number;
  /**
   * Temporal Web UI base address, `SLUICE_UI_URL`; else the UI of the dev server `npm run server` started for
   * this address (it records its `--ui-port`), else `http://localhost:8233`.
   */
  uiUrl: string;
  /** API key (Temporal Cloud), `TEMPORAL_API_KEY`; implies TLS. */
  apiKey?: string;
  /** TLS to the frontend: on with `TEMPORAL_TLS=true`, a client certificate, a CA or an API key. */
  tls?: {
    /** mTLS client certificate and key files, `TEMPORAL_TLS_CLIENT_CERT_PATH` / `TEMPORAL_TLS_CLIENT_KEY_PATH`. */
    clientCertPath?: string;
    clientKeyPath?: string;
    /** CA of a server with a private certificate, `TEMPORAL_TLS_SERVER_CA_CERT_PATH`. */
    serverCaCertPath?: string;
    /** Name the server certificate must carry, `TEMPORAL_TLS_SERVER_NAME`. */
    serverName?: string;
  };
  /**
   * Keys of the payload codec, `SLUICE_CODEC_KEYS` or `SLUICE_CODEC_KEYS_FILE`: when set, every payload this
   * process sends to Temporal is encrypted (AES-256-GCM) and every encrypted one it receives is decrypted.
   */
  codecKeys?: CodecKeys;
}

/** Where dev servers started from this folder record their ports, one `<frontend port>.json` each. */
export const DEV_SERVER_RECORDS = path.resolve('.sluice', 'dev-servers');

/** What a dev server records about itself: its Web UI address (absent when headless). */
export interface DevServerRecord {
  pid: number;
  uiUrl?: string;
}

/** The Web UI a local dev server on `address` recorded, if `address` is this machine and one did. */
function localDevServerUi(address: string): string | undefined {
  const match = /^(localhost|127\.0\.0\.1):(\d+)$/.exec(address);
  if (!match) return undefined;
  try {
    return (JSON.parse(fs.readFileSync(path.join(DEV_SERVER_RECORDS, `${match[2]}.json`), 'utf8')) as DevServerRecord).uiUrl;
  } catch {
    return undefined;
  }
}

/** The task queue model registries run on. */
export function registryQueueOf(config: SluiceConfig): string {
  return config.registryTaskQueue ?? DEFAULT_REGISTRY_TASK_QUEUE;
}

/** Reads the configuration from the environment; relative paths are taken from the current directory. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): SluiceConfig {
  return {
    address: env.TEMPORAL_ADDRESS || 'localhost:7233',
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.SLUICE_TASK_QUEUE || 'sluice',
    registryTaskQueue: env.SLUICE_REGISTRY_TASK_QUEUE || DEFAULT_REGISTRY_TASK_QUEUE,
    ...artifactSettings(env),
    maxConcurrentActivities: wholeNumber(env, 'SLUICE_WORKER_ACTIVITIES'),
    drainSeconds: wholeNumber(env, 'SLUICE_WORKER_DRAIN_SECONDS'),
    uiUrl: (env.SLUICE_UI_URL || localDevServerUi(env.TEMPORAL_ADDRESS || 'localhost:7233') || 'http://localhost:8233').replace(/\/$/, ''),
    apiKey: env.TEMPORAL_API_KEY || undefined,
    tls: tlsSettings(env),
    codecKeys: codecKeysFrom(env),
  };
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name];
  if (!text) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}=${text}: expects a whole number of at least 1`);
  return n;
}

function artifactSettings(env: NodeJS.ProcessEnv): Pick<SluiceConfig, 'artifactRoot' | 'artifactRemote' | 'cacheBytes'> {
  const artifacts = env.SLUICE_ARTIFACTS || '.sluice/artifacts';
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(artifacts)) return { artifactRoot: path.resolve(artifacts) };
  if (!artifacts.startsWith('s3://')) throw new Error(`SLUICE_ARTIFACTS=${artifacts}: artifact stores are a folder or an s3://bucket/prefix address`);
  const gigabytes = Number(env.SLUICE_CACHE_MAX_GB || 20);
  if (!(gigabytes > 0)) throw new Error(`SLUICE_CACHE_MAX_GB=${env.SLUICE_CACHE_MAX_GB}: expects a positive number of gigabytes`);
  return { artifactRoot: path.resolve(env.SLUICE_CACHE || '.sluice/cache'), artifactRemote: artifacts, cacheBytes: gigabytes * 2 ** 30 };
}

function tlsSettings(env: NodeJS.ProcessEnv): SluiceConfig['tls'] {
  const settings = {
    clientCertPath: env.TEMPORAL_TLS_CLIENT_CERT_PATH || undefined,
    clientKeyPath: env.TEMPORAL_TLS_CLIENT_KEY_PATH || undefined,
    serverCaCertPath: env.TEMPORAL_TLS_SERVER_CA_CERT_PATH || undefined,
    serverName: env.TEMPORAL_TLS_SERVER_NAME || undefined,
  };
  const any = Object.values(settings).some((v) => v !== undefined);
  if (env.TEMPORAL_TLS === 'false') return undefined;
  return any || env.TEMPORAL_TLS === 'true' || env.TEMPORAL_API_KEY ? settings : undefined;
}

/** Address, TLS and API key for `Connection.connect` (client) and `NativeConnection.connect` (worker). */
export function connectionOptions(config: SluiceConfig): { address: string; tls?: TLSConfig; apiKey?: string } {
  const read = (file: string, what: string) => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read the ${what} ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  };
  const t = config.tls;
  if (t && (t.clientCertPath === undefined) !== (t.clientKeyPath === undefined)) {
    throw new Error('TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together: set both for mTLS, or neither');
  }
  const tls: TLSConfig | undefined = t && {
    serverNameOverride: t.serverName,
    serverRootCACertificate: t.serverCaCertPath ? read(t.serverCaCertPath, 'server CA certificate') : undefined,
    clientCertPair: t.clientCertPath && t.clientKeyPath ? { crt: read(t.clientCertPath, 'client certificate'), key: read(t.clientKeyPath, 'client key') } : undefined,
  };
  return { address: config.address, tls, apiKey: config.apiKey };
}

/** The Web UI page of a workflow (its latest run). */
export function workflowUrl(config: SluiceConfig, workflowId: string): string {
  return `${config.uiUrl}/namespaces/${encodeURIComponent(config.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** The Web UI page of one workflow run. */
export function runUrl(config: SluiceConfig, workflowId: string, runId: string): string {
  return `${config.uiUrl}/namespaces/${encodeURIComponent(config.namespace)}/workflows/${encodeURIComponent(workflowId)}/${runId}/history`;
}
