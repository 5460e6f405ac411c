import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { SLUICE_SEARCH_ATTRIBUTES } from '../contracts/search-attributes';

/** docker-compose.yml as docker-compose resolves it (Debian's docker-compose validates without an engine). */
const ROOT = path.resolve(__dirname, '..');

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  volumes?: Array<string | { source: string; target: string }>;
  command?: string[] | string;
  ports?: unknown[];
}

describe('the production compose file', () => {
  const run = spawnSync('docker-compose', ['-f', path.join(ROOT, 'docker-compose.yml'), 'config'], { encoding: 'utf8', cwd: ROOT });

  it('validates', () => {
    expect(run.error).toBeUndefined();
    expect(run.stderr).not.toMatch(/error|invalid/i);
    expect(run.status).toBe(0);
  });

  it('has Temporal on PostgreSQL, its UI, a sinks database and workers per queue sharing artifacts and data', () => {
    const { services, volumes } = parse(run.stdout) as { services: Record<string, Service>; volumes: Record<string, unknown> };
    expect(services.temporal.image).toMatch(/^temporalio\/auto-setup:/);
    expect(services.temporal.environment?.DB).toBe('postgres12');
    expect(services['temporal-ui'].image).toMatch(/^temporalio\/ui:/);
    expect(services['sinks-db'].image).toMatch(/^postgres:/);
    const mounts = (s: Service) => (s.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[1] : v.target));
    for (const [name, queue] of [
      ['sluice-worker', 'sluice'],
      ['sluice-train-worker', 'sluice-train'],
    ]) {
      const worker = services[name];
      expect(worker.build).toBeDefined();
      expect(worker.ports).toBeUndefined(); // scalable with --scale: no fixed host port
      expect(worker.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', SLUICE_TASK_QUEUE: queue, SLUICE_ARTIFACTS: '/artifacts', SLUICE_DATA_ROOTS: '/data' });
      expect(mounts(worker).sort()).toEqual(['/artifacts', '/data']);
    }
    expect(Object.keys(volumes)).toEqual(expect.arrayContaining(['artifacts', 'data', 'temporal-db', 'sinks-db']));
    const registration = ([] as string[]).concat(services['temporal-admin'].command ?? []).join(' ');
    for (const attribute of SLUICE_SEARCH_ATTRIBUTES) expect(registration).toContain(`--name ${attribute.name} --type ${attribute.type}`);
  });

  it('builds a worker image with everything a worker imports', () => {
    const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    for (const dir of ['activities', 'workflows', 'workers', 'scripts', 'pipelines']) expect(dockerfile).toContain(`COPY ${dir} ./${dir}`);
  });
});
