import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { ArtifactStore } from '../activities/storage/artifact-store';
import { startDevServer, stopDevServer } from '../scripts/dev-server';
import { spawnPythonWorker } from '../scripts/python-worker';
import { loadConfig } from '../workers/config';
import { createSluiceWorker } from '../workers/create-worker';
import { trainPipeline, type TrainPipelineResult } from '../workflows/train-pipeline';
import { secondsOf } from './history-timeline';

/** A benchmark's Sluice side: a client, and a training run of a spec with its train step's time. */
export interface PythonBench {
  client: Client;
  /** Trains `spec`; the train step's seconds from its scheduling to its completion, as the server recorded them. */
  train(spec: string, workflowId: string): Promise<{ result: TrainPipelineResult; seconds: number }>;
}

/** A fresh artifact root under `work` sharing `cached`'s extracts and feature sets, so a benchmark trains its models anew. */
export function freshArtifactRoot(cached: ArtifactStore, work: string): string {
  const root = path.join(work, 'artifacts');
  fs.mkdirSync(root);
  for (const kind of ['extract', 'features']) fs.symlinkSync(path.join(cached.root, kind), path.join(root, kind));
  return root;
}

/**
 * Runs `work` against Sluice end to end — a headless dev server on `port`, a TypeScript worker in this process
 * (queue `bench`) and the Python worker as a child (queue `bench-python`), both on the artifact root `root` —
 * and stops all of it afterwards.
 */
export async function withPythonBench<T>(port: number, root: string, work: (bench: PythonBench) => Promise<T>): Promise<T> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-server-'));
  const server = await startDevServer({ port, headless: true, stateDir });
  const pythonWorker = spawnPythonWorker({ TEMPORAL_ADDRESS: server.address, SLUICE_ARTIFACTS: root, SLUICE_PYTHON_TASK_QUEUE: 'bench-python' });
  const connection = await Connection.connect({ address: server.address });
  try {
    const client = new Client({ connection });
    const { worker, connection: workerConnection } = await createSluiceWorker({ config: { ...loadConfig(), address: server.address, taskQueue: 'bench', artifactRoot: root } });
    try {
      return await worker.runUntil(() =>
        work({
          client,
          async train(spec, workflowId) {
            const handle = await client.workflow.start(trainPipeline, { taskQueue: 'bench', workflowId, args: [{ spec }] });
            const result = await handle.result();
            return { result, seconds: await activitySeconds(handle, 'trainPython') };
          },
        }),
      );
    } finally {
      await workerConnection.close();
    }
  } finally {
    pythonWorker.kill('SIGTERM');
    await connection.close();
    await stopDevServer(port, stateDir);
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

/** Wall seconds from the activity's scheduling to its completion, as the server recorded them. */
async function activitySeconds(handle: WorkflowHandle, type: string): Promise<number> {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type);
  const completed = events.find((e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? '') === String(scheduled?.eventId));
  if (!scheduled || !completed) throw new Error(`no completed ${type} in ${handle.workflowId}`);
  return secondsOf(completed.eventTime) - secondsOf(scheduled.eventTime);
}
