import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { bundleWorkflowCode } from '@temporalio/worker';
import { installTemporalCli, startDevServer } from '../../scripts/dev-server';
import { startS3Server } from '../../scripts/s3-server';
import { WORKFLOWS_PATH } from '../../workers/create-worker';

/** Added to every port the suite's own servers take: SLUICE_TEST_PORT_OFFSET=100 runs a second suite beside a first. */
const OFFSET = Number(process.env.SLUICE_TEST_PORT_OFFSET ?? 0);
/** Ports of the test suite's own dev server and its Web UI, apart from the ones `npm run demo` uses. */
const TEST_PORT = 7244 + OFFSET;
const TEST_UI_PORT = 7254 + OFFSET;

/**
 * Starts a fresh Temporal dev server for the test run (its own SQLite file in a temp folder, its Web UI
 * for the browser test) and bundles the workflow code once for every test worker. Test files read what they need from env.
 */
export default async function globalSetup(): Promise<void> {
  installTemporalCli();
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-test-'));
  const server = await startDevServer({ port: TEST_PORT, uiPort: TEST_UI_PORT, stateDir });
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  const bundlePath = path.join(stateDir, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, code);
  process.env.SLUICE_TEST_ADDRESS = server.address;
  process.env.SLUICE_TEST_STATE = stateDir;
  process.env.SLUICE_TEST_BUNDLE = bundlePath;
  process.env.SLUICE_TEST_PORT = String(TEST_PORT);
  process.env.SLUICE_TEST_UI = `http://127.0.0.1:${TEST_UI_PORT}`;
  // Tests read and write under the project and the system temp folder; nothing else.
  process.env.SLUICE_DATA_ROOTS = [path.resolve(__dirname, '..', '..'), os.tmpdir()].join(path.delimiter);
  startPostgres();
  await startObjectStorage(stateDir);
}

/** S3 port of the test suite's own SeaweedFS (it also takes the three ports below). */
const S3_PORT = 7264 + OFFSET;
/** The bucket the object-storage tests use. */
const S3_BUCKET = 'sluice-test';

/** Starts a private S3 server (SeaweedFS) and points every AWS client of the test run at it. */
async function startObjectStorage(stateDir: string): Promise<void> {
  // The server checks these; every S3 client of the run signs with them (the AWS SDK reads them from the environment).
  const credentials = { accessKeyId: 'SLUICETESTACCESSKEY', secretAccessKey: 'sluice-test-secret-access-key' };
  const server = await startS3Server({ dir: path.join(stateDir, 's3'), port: S3_PORT, buckets: [S3_BUCKET], credentials });
  process.env.SLUICE_TEST_S3_PID = String(server.pid);
  process.env.SLUICE_TEST_S3_BUCKET = S3_BUCKET;
  process.env.AWS_ENDPOINT_URL = server.endpoint;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
}

/** Port of the test suite's own PostgreSQL, for the Postgres sink. */
const PG_PORT = 5434 + OFFSET;

/** Starts a private PostgreSQL (scripts/postgres.sh) and exports SLUICE_POSTGRES_URL for the sink tests. */
function startPostgres(): void {
  const dir = path.join(os.tmpdir(), `sluice-test-pg-${process.pid}`);
  const run = spawnSync('bash', [path.resolve(__dirname, '..', '..', 'scripts', 'postgres.sh'), 'start', dir, String(PG_PORT)], { encoding: 'utf8' });
  if (run.status !== 0) {
    console.warn(`PostgreSQL could not start, the Postgres sink test will fail: ${run.stderr.trim()}`);
    return;
  }
  process.env.SLUICE_TEST_PG_DIR = dir;
  process.env.SLUICE_POSTGRES_URL = run.stdout.trim().split('\n').pop();
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
