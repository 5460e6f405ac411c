import path from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type SluiceActivities } from '../activities/index';
import { ArtifactStore } from '../activities/artifacts';
import { connectionOptions, type SluiceConfig } from './config';
import { ensureSearchAttributes } from './search-attribute-setup';

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

/** The workflow source the worker bundles. */
export const WORKFLOWS_PATH = path.resolve(__dirname, '..', 'workflows', 'index.ts');

/** A worker for the Sluice task queue, running every workflow and activity type. */
export async function createSluiceWorker(options: SluiceWorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  const { config } = options;
  const connection = options.connection ?? (await NativeConnection.connect(connectionOptions(config)));
  // A new version of Sluice may carry new search attributes: register them before running its workflows.
  await ensureSearchAttributes(connection, config.namespace).catch((err: unknown) =>
    console.warn(`could not check the Sluice search attributes in namespace ${config.namespace} (${(err as Error).message}); create them as the README says`),
  );
  const activities = createActivities(new ArtifactStore(config.artifactRoot));
  const worker = await Worker.create({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: options.wrapActivities ? options.wrapActivities(activities) : activities,
    // Heavy steps (DuckDB, ONNX Runtime) use every core themselves; a few at a time per process is plenty.
    maxConcurrentActivityTaskExecutions: 4,
    ...options.overrides,
  });
  return { worker, connection };
}
