import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { SluiceActivities } from '../../activities/index';
import type { SluiceConfig } from '../../workers/config';
import type { CodecKeys } from '../../workers/codec/codec-keys';
import { dataConverterOf } from '../../workers/codec/data-converter';
import { createSluiceWorker } from '../../workers/create-worker';

let runtimeInstalled = false;

/**
 * Artifacts of the whole test run share one store (so steps with equal inputs are computed once per
 * run), fresh for every run so no test depends on what an earlier run left.
 */
export const TEST_ARTIFACTS = path.join(process.env.SLUICE_TEST_STATE ?? path.resolve(__dirname, '..', '..', '.sluice', 'test-state'), 'artifacts');

/** Configuration for a test: the suite's dev server and a task queue of the test's own. */
export function testConfig(taskQueue: string): SluiceConfig {
  const address = process.env.SLUICE_TEST_ADDRESS;
  if (!address) throw new Error('SLUICE_TEST_ADDRESS is not set: run the tests with `npm test` (jest global setup starts the server)');
  return { address, namespace: 'default', taskQueue, artifactRoot: TEST_ARTIFACTS, uiUrl: 'http://localhost:8233' };
}

export interface TestHarness {
  client: Client;
  config: SluiceConfig;
  /** Runs `work` while a worker with the real activities (optionally wrapped) polls the test's queue. */
  withWorker<T>(work: () => Promise<T>, wrapActivities?: (a: SluiceActivities) => SluiceActivities): Promise<T>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Client and worker encrypt payloads with these keys (give an encrypted `bundle` too). */
  codecKeys?: CodecKeys;
  /** The workflow bundle's file (default: the suite's, SLUICE_TEST_BUNDLE). */
  bundle?: string;
  /** Poll this exact task queue (another harness's) instead of a new one. */
  taskQueue?: string;
}

/** A client and worker factory bound to the suite's dev server. */
export async function harness(name: string, options: HarnessOptions = {}): Promise<TestHarness> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const config: SluiceConfig = { ...testConfig(options.taskQueue ?? `${name}-${process.pid}-${Date.now()}`), codecKeys: options.codecKeys };
  const connection = await Connection.connect({ address: config.address });
  const nativeConnection = await NativeConnection.connect({ address: config.address });
  const client = new Client({ connection, namespace: config.namespace, dataConverter: dataConverterOf(config.codecKeys) });
  const bundlePath = options.bundle ?? (process.env.SLUICE_TEST_BUNDLE as string);
  return {
    client,
    config,
    async withWorker<T>(work: () => Promise<T>, wrapActivities?: (a: SluiceActivities) => SluiceActivities): Promise<T> {
      const { worker } = await createSluiceWorker({
        config,
        connection: nativeConnection,
        workflowBundle: { code: fs.readFileSync(bundlePath, 'utf8') },
        wrapActivities,
      });
      return worker.runUntil(work);
    },
    async close() {
      await connection.close();
      await nativeConnection.close();
    },
  };
}
