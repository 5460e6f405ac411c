import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

/** The SeaweedFS binary scripts/setup-s3.sh builds. */
export const WEED = path.resolve(__dirname, '..', '.tools', 'bin', 'weed');

/** A running S3-compatible server on loopback. */
export interface S3Server {
  /** `http://127.0.0.1:<port>`: AWS_ENDPOINT_URL for Sluice's processes. */
  endpoint: string;
  pid: number;
  dir: string;
}

/**
 * Starts SeaweedFS (master, volume, filer and S3 gateway in one process) with its data in `dir`, on `port`
 * (S3) and the three ports below it; waits until S3 answers and creates `buckets`. It accepts one access
 * key, `credentials` (SeaweedFS makes AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of its environment an admin).
 */
export async function startS3Server(options: { dir: string; port: number; buckets: string[]; credentials: { accessKeyId: string; secretAccessKey: string } }): Promise<S3Server> {
  const { dir, port } = options;
  if (!fs.existsSync(WEED)) {
    const built = spawnSync('bash', [path.resolve(__dirname, 'setup-s3.sh')], { stdio: 'inherit' });
    if (built.status !== 0) throw new Error('the S3 test server (SeaweedFS) could not be built: see scripts/setup-s3.sh');
  }
  fs.mkdirSync(dir, { recursive: true });
  const log = fs.openSync(path.join(dir, 'weed.log'), 'a');
  // Every port is given (the master's, volume's and filer's gRPC ports are theirs + 10000), extras are off.
  const args = [
    'server', '-dir', dir, '-ip', '127.0.0.1', '-ip.bind', '127.0.0.1',
    '-master.port', String(port - 3), '-volume.port', String(port - 2), '-filer.port', String(port - 1),
    '-master.volumeSizeLimitMB', '256', '-master.telemetry=false',
    '-s3', '-s3.port', String(port), '-s3.port.iceberg', '0', '-s3.port.lance', '0',
  ];
  const env = { ...process.env, AWS_ACCESS_KEY_ID: options.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: options.credentials.secretAccessKey };
  const child = spawn(WEED, args, { detached: true, stdio: ['ignore', log, log], env });
  child.unref();
  const server = { endpoint: `http://127.0.0.1:${port}`, pid: child.pid ?? 0, dir };
  fs.writeFileSync(path.join(dir, 'weed.pid'), String(server.pid));
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'; // see activities/storage/object-store.ts
  const client = new S3Client({ region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true, credentials: options.credentials });
  const deadline = Date.now() + 60_000;
  for (const bucket of options.buckets) {
    for (;;) {
      try {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
        break;
      } catch (err) {
        const name = (err as Error).name;
        if (name === 'BucketAlreadyOwnedByYou' || name === 'BucketAlreadyExists') break;
        if (Date.now() > deadline || child.exitCode !== null) {
          await stopS3Server(server);
          throw new Error(`the S3 test server did not start on port ${port} (${(err as Error).message}); see ${path.join(dir, 'weed.log')}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    }
  }
  client.destroy();
  return server;
}

/** Stops a server {@link startS3Server} started (its whole process group): SIGTERM, then SIGKILL after a few seconds (SeaweedFS may not exit on SIGTERM alone). */
export async function stopS3Server(server: Pick<S3Server, 'pid'>): Promise<void> {
  const signal = (name: NodeJS.Signals | 0) => {
    try {
      process.kill(-server.pid, name);
      return true;
    } catch {
      return false; // gone
    }
  };
  if (!signal('SIGTERM')) return;
  for (let waited = 0; waited < 3_000; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (!signal(0)) return;
  }
  signal('SIGKILL');
}
