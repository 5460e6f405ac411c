import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { stopDevServer } from '../../scripts/dev-server';

/** Stops the test dev server and PostgreSQL and removes their temp folders. */
export default async function globalTeardown(): Promise<void> {
  const pgDir = process.env.SLUICE_TEST_PG_DIR;
  if (pgDir) {
    spawnSync('bash', [path.resolve(__dirname, '..', '..', 'scripts', 'postgres.sh'), 'stop', pgDir]);
    fs.rmSync(pgDir, { recursive: true, force: true });
  }
  const stateDir = process.env.SLUICE_TEST_STATE;
  if (!stateDir) return;
  await stopDevServer(Number(process.env.SLUICE_TEST_PORT), stateDir);
  fs.rmSync(stateDir, { recursive: true, force: true });
}
