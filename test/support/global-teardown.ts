import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { stopDevServer } from '../../scripts/dev-server';
import { stopS3Server } from '../../scripts/s3-server';
import { failedWorkflowTasks } from './failed-workflow-tasks';

/**
 * Checks that no workflow task of any run the suite made failed, then stops the test dev server and
 * PostgreSQL and removes their temp folders. A failed workflow task fails the test run.
 */
export default async function globalTeardown(): Promise<void> {
  const address = process.env.SLUICE_TEST_ADDRESS;
  const failed = address ? await failedWorkflowTasks(address) : [];
  const pgDir = process.env.SLUICE_TEST_PG_DIR;
  if (pgDir) {
    spawnSync('bash', [path.resolve(__dirname, '..', '..', 'scripts', 'postgres.sh'), 'stop', pgDir]);
    fs.rmSync(pgDir, { recursive: true, force: true });
  }
  const s3 = Number(process.env.SLUICE_TEST_S3_PID);
  if (s3 > 0) await stopS3Server({ pid: s3 });
  const stateDir = process.env.SLUICE_TEST_STATE;
  if (!stateDir) return;
  await stopDevServer(Number(process.env.SLUICE_TEST_PORT), stateDir);
  fs.rmSync(stateDir, { recursive: true, force: true });
  if (failed.length > 0) {
    throw new Error(`${failed.length} workflow task(s) failed in the suite's runs; workflow code must turn every problem into a failed step:\n${failed.join('\n')}`);
  }
}
