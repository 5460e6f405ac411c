import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type SluiceActivities } from '../activities/index';
import { openArtifactStore } from '../activities/storage/open-store';
import { AttemptCostInterceptor } from '../activities/cost/attempt-costs';
import { connectionOptions, registryQueueOf, type SluiceConfig } from './config';
import { ensureSearchAttributes } from './search-attribute-setup';
import { dataConverterOf, ENCRYPTED_FAILURES_PATH } from './codec/data-converter';

export interface SluiceWorkerOptions {
  config: SluiceConfig;
  /** An open connection to reuse; otherwise one is opened to `config.address`. */
  connection?: NativeConnection;
  /** A prebuilt workflow bundle (tests build it once); otherwise workflows are bundled from source. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Replace some activities (tests use this to inject faults around the real ones). */
  wrapActivities?: (activities: SluiceActivities) => SluiceActivities;
  /** Extra worker options. */
  overrides?: Partial<WorkerOptions>;
}

/** The workflow source the worker bundles when it runs from source. */
export const WORKFLOWS_PATH = path.resolve(__dirname, '..', 'workflows', 'index.ts');
/**
 * The bundles `npm run build` writes beside the compiled code (dist/workflow-bundle.js), when they exist: one with
 * Temporal's failure converter, one with the failure converter of workers that encrypt payloads.
 */
export const PREBUILT_BUNDLE = path.resolve(__dirname, '..', 'workflow-bundle.js');
export const PREBUILT_ENCRYPTED_BUNDLE = path.resolve(__dirname, '..', 'workflow-bundle-encrypted.js');

/** The prebuilt bundle in compiled form, else the workflows bundled from source now (a few seconds). */
async function workflowBundleOf(encrypted: boolean): Promise<NonNullable<WorkerOptions['workflowBundle']>> {
  const prebuilt = encrypted ? PREBUILT_ENCRYPTED_BUNDLE : PREBUILT_BUNDLE;
  if (fs.existsSync(prebuilt)) return { codePath: prebuilt };
  return { code: (await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundler, ...(encrypted ? { failureConverterPath: ENCRYPTED_FAILURES_PATH } : {}) })).code };
}

/**
 * A worker for the Sluice task queue, running every workflow and activity type, with a second one on the
 * registry task queue (model registries run there, whatever queue the run that created them used).
 */
export async function createSluiceWorker(options: SluiceWorkerOptions): Promise<{ worker: WorkerGroup; connection: NativeConnection }> {
  const { config } = options;
  const connection = options.connection ?? (await NativeConnection.connect(connectionOptions(config)));
  // A new version of Sluice may carry new search attributes: register them before running its workflows.
  await ensureSearchAttributes(connection, config.namespace).catch((err: unknown) =>
    console.warn(`could not check the Sluice search attributes in namespace ${config.namespace} (${(err as Error).message}); create them as the README says`),
  );
  const registryQueue = registryQueueOf(config);
  const activities = createActivities(openArtifactStore(config), registryQueue);
  // Payloads encrypted when codec keys are configured (the codec runs outside the workflow sandbox; a given
  // workflowBundle must then be bundled with ENCRYPTED_FAILURES_PATH as its failure converter).
  const dataConverter = dataConverterOf(config.codecKeys);
  // Bundled once for both workers.
  const workflowBundle = options.workflowBundle ?? (await workflowBundleOf(dataConverter !== undefined));
  const main = await Worker.create({
    connection,
    namespace: config.namespace,
    dataConverter,
    taskQueue: config.taskQueue,
    workflowBundle,
    activities: options.wrapActivities ? options.wrapActivities(activities) : activities,
    // Heavy steps (DuckDB, ONNX Runtime) use every core themselves; a few at a time per process is plenty.
    maxConcurrentActivityTaskExecutions: config.maxConcurrentActivities ?? 4,
    ...(config.drainSeconds ? { shutdownGraceTime: config.drainSeconds * 1000 } : {}),
    // Failed attempts cost too: counted here, for every activity, whatever wraps it.
    interceptors: { activity: [() => ({ inbound: new AttemptCostInterceptor(config.artifactRoot) })] },
    ...options.overrides,
  });
  const registry = await Worker.create({ connection, namespace: config.namespace, taskQueue: registryQueue, workflowBundle, dataConverter });
  return { worker: new WorkerGroup([main, registry]), connection };
}

/** Workers that run and stop together. */
export class WorkerGroup {
  constructor(readonly workers: Worker[]) {}

  /** Runs every worker until it is shut down (SIGINT / SIGTERM) or one fails. */
  async run(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.run()));
  }

  /** Runs every worker while `work` runs, then shuts them down; resolves to what `work` resolved to. */
  async runUntil<T>(work: Promise<T> | (() => Promise<T>)): Promise<T> {
    const done = typeof work === 'function' ? work() : work;
    const [result] = await Promise.all([this.workers[0].runUntil(done), ...this.workers.slice(1).map((w) => w.runUntil(done.catch(() => undefined)))]);
    return result;
  }
}

/** The bundler's own log lines are noise in a worker's output. */
const quietBundler = { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: console.warn, error: console.error, log: () => undefined };
