import fs from 'node:fs';
import { stopDevServer } from '../../scripts/dev-server';

/** Stops the test dev server and removes its temp folder. */
export default async function globalTeardown(): Promise<void> {
  const stateDir = process.env.SLUICE_TEST_STATE;
  if (!stateDir) return;
  await stopDevServer(Number(process.env.SLUICE_TEST_PORT), stateDir);
  fs.rmSync(stateDir, { recursive: true, force: true });
}
