/**
 * A Sluice worker process: polls the task queue (SLUICE_TASK_QUEUE, default `sluice`) on the Temporal
 * cluster at TEMPORAL_ADDRESS and runs pipeline workflows and their activities. Start as many as you
 * like, on as many machines as reach the artifact store (a shared folder, or S3 with SLUICE_ARTIFACTS=s3://…). Stops cleanly on SIGINT / SIGTERM.
 */
import fs from 'node:fs';
import { loadConfig } from './config';
import { createSluiceWorker, PREBUILT_BUNDLE, PREBUILT_ENCRYPTED_BUNDLE } from './create-worker';
import { CodecKeyError } from './codec/codec-keys';
import { reportStatus } from './status-file';

async function main(): Promise<void> {
  const config = loadConfig();
  const { worker, connection } = await createSluiceWorker({ config });
  const prebuilt = fs.existsSync(config.codecKeys ? PREBUILT_ENCRYPTED_BUNDLE : PREBUILT_BUNDLE);
  const payloads = config.codecKeys ? `payloads encrypted under key ${config.codecKeys.current.id}` : 'payloads not encrypted';
  console.log(`sluice worker polling task queue "${config.taskQueue}" on ${config.address} (namespace ${config.namespace}); artifacts in ${config.artifactRemote ? `${config.artifactRemote} (cache ${config.artifactRoot})` : config.artifactRoot}; ${payloads}; workflows ${prebuilt ? 'from the prebuilt bundle' : 'bundled from source'}`);
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
  // A key setting that cannot be used names its variable; nothing else of it is printed.
  console.error(err instanceof CodecKeyError ? `sluice worker: ${err.message}` : err);
  process.exit(1);
});
