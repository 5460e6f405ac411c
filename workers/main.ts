/**
 * A Sluice worker process: polls the task queue (SLUICE_TASK_QUEUE, default `sluice`) on the Temporal
 * cluster at TEMPORAL_ADDRESS and runs pipeline workflows and their activities. Start as many as you
 * like, on as many machines as reach the artifact store (a shared folder, or S3 with SLUICE_ARTIFACTS=s3://…). Stops cleanly on SIGINT / SIGTERM.
 */
import fs from 'node:fs';
import { loadConfig } from './config';
import { createSluiceWorker, PREBUILT_BUNDLE } from './create-worker';
import { reportStatus } from './status-file';

async function main(): Promise<void> {
  const config = loadConfig();
  const { worker, connection } = await createSluiceWorker({ config });
  console.log(`sluice worker polling task queue "${config.taskQueue}" on ${config.address} (namespace ${config.namespace}); artifacts in ${config.artifactRemote ? `${config.artifactRemote} (cache ${config.artifactRoot})` : config.artifactRoot}; workflows ${fs.existsSync(PREBUILT_BUNDLE) ? 'from the prebuilt bundle' : 'bundled from source'}`);
  // Started by `sluice workers`: report what runs, so the provisioner stops only idle workers.
  const stopReports = process.env.SLUICE_WORKER_STATUS_FILE ? reportStatus(worker.workers, process.env.SLUICE_WORKER_STATUS_FILE) : undefined;
  try {
    await worker.run();
  } finally {
    stopReports?.();
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
