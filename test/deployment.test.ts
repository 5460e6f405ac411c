import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { SLUICE_SEARCH_ATTRIBUTES } from '../contracts/search-attributes';
import { trainPipeline } from '../workflows/train-pipeline';
import { kill, startCompiledWorker } from './support/processes';
import { smallFlightsSpec } from './support/specs';
import { harness, TEST_ARTIFACTS, type TestHarness } from './support/temporal';

/** docker-compose.yml as docker-compose resolves it (Debian's docker-compose validates without an engine). */
const ROOT = path.resolve(__dirname, '..');

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  volumes?: Array<string | { source: string; target: string }>;
  command?: string[] | string;
  ports?: unknown[];
  depends_on?: Record<string, unknown>;
}

describe('the production compose file', () => {
  const run = spawnSync('docker-compose', ['-f', path.join(ROOT, 'docker-compose.yml'), 'config'], { encoding: 'utf8', cwd: ROOT });

  it('validates', () => {
    expect(run.error).toBeUndefined();
    expect(run.stderr).not.toMatch(/error|invalid/i);
    expect(run.status).toBe(0);
  });

  it('has Temporal on PostgreSQL, its UI, a sinks database, object storage and workers per queue sharing artifacts through S3 only', () => {
    const { services, volumes } = parse(run.stdout) as { services: Record<string, Service>; volumes: Record<string, unknown> };
    expect(services.temporal.image).toMatch(/^temporalio\/auto-setup:/);
    expect(services.temporal.environment?.DB).toBe('postgres12');
    expect(services['temporal-ui'].image).toMatch(/^temporalio\/ui:/);
    expect(services['sinks-db'].image).toMatch(/^postgres:/);
    const mounts = (s: Service) => (s.volumes ?? []).map((v) => (typeof v === 'string' ? (v.includes(':') ? v.split(':')[1] : v) : v.target));
    for (const [name, queue] of [
      ['sluice-worker', 'sluice'],
      ['sluice-train-worker', 'sluice-train'],
    ]) {
      const worker = services[name];
      expect(worker.build).toBeDefined();
      expect(worker.ports).toBeUndefined(); // scalable with --scale: no fixed host port
      expect(worker.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', SLUICE_TASK_QUEUE: queue, SLUICE_ARTIFACTS: 's3://sluice/artifacts', SLUICE_CACHE: '/cache', AWS_ENDPOINT_URL: 'http://object-storage:8333', SLUICE_DATA_ROOTS: '/data' });
      expect(mounts(worker).sort()).toEqual(['/cache', '/data']);
      expect(Object.keys(worker.depends_on ?? {})).toContain('object-storage');
    }
    expect(services['sluice-python-worker'].environment).toMatchObject({ SLUICE_PYTHON_TASK_QUEUE: 'sluice-python', SLUICE_ARTIFACTS: 's3://sluice/artifacts', SLUICE_CACHE: '/cache' });
    expect(services['object-storage'].image).toMatch(/^chrislusf\/seaweedfs:/);
    expect(services['object-storage'].environment).toMatchObject({ AWS_ACCESS_KEY_ID: expect.any(String), AWS_SECRET_ACCESS_KEY: expect.any(String) });
    expect(Object.keys(volumes)).toEqual(expect.arrayContaining(['object-storage', 'data', 'temporal-db', 'sinks-db']));
    const registration = ([] as string[]).concat(services['temporal-admin'].command ?? []).join(' ');
    for (const attribute of SLUICE_SEARCH_ATTRIBUTES) expect(registration).toContain(`--name ${attribute.name} --type ${attribute.type}`);
  });

  it('builds a worker image from everything the compiled worker is built from, and runs it with node', () => {
    const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const { include } = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    for (const dir of include) expect(dockerfile).toContain(`COPY ${dir} ./${dir}`);
    expect(dockerfile).toContain('RUN node_modules/.bin/tsx scripts/build.ts dist');
    expect(dockerfile).toContain('CMD ["node", "dist/workers/main.js"]');
  });
});

describe('the compiled worker', () => {
  let h: TestHarness;
  let worker: ChildProcess | undefined;
  const out = path.join(ROOT, '.sluice', 'build-test');
  beforeAll(async () => {
    h = await harness('compiled');
  });
  afterAll(async () => {
    if (worker) await kill(worker);
    await h?.close();
  });

  it('npm run build compiles the worker and prebuilds its workflow bundle; it starts without tsx and runs a pipeline', async () => {
    execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/build.ts', out], { cwd: ROOT, stdio: 'pipe' });
    expect(fs.existsSync(path.join(out, 'workflow-bundle.js'))).toBe(true);
    worker = await startCompiledWorker(out, { TEMPORAL_ADDRESS: h.config.address, SLUICE_TASK_QUEUE: h.config.taskQueue, SLUICE_ARTIFACTS: TEST_ARTIFACTS });
    const spec = smallFlightsSpec('compiled-worker');
    const result = await h.client.workflow.execute(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `compiled-worker-${process.pid}` });
    expect(result.promoted).toBe(true);
    const history = await h.client.workflow.getHandle(`compiled-worker-${process.pid}`).fetchHistory();
    const identities = new Set((history.events ?? []).map((e) => e.workflowTaskCompletedEventAttributes?.identity).filter(Boolean));
    expect([...identities].every((id) => id?.includes(String(worker?.pid)))).toBe(true); // the compiled worker ran it all
  });
});
