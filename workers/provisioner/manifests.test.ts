import fs from 'node:fs';
import path from 'node:path';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { parseAllDocuments } from 'yaml';
import { manifestsYaml } from './manifests';
import { loadPolicy } from './policy';

const ROOT = path.resolve(__dirname, '..', '..');
const POLICY = loadPolicy(path.join(ROOT, 'workers.yaml'));
const CHECKED_IN = path.join(ROOT, 'deploy', 'kubernetes', 'sluice-workers.yaml');

type Manifest = { kind: string } & Record<string, unknown>;
const MODELS: Record<string, (m: Manifest) => { validate(): void }> = {
  ConfigMap: (m) => new ConfigMap(m as unknown as ConstructorParameters<typeof ConfigMap>[0]),
  Deployment: (m) => new Deployment(m as unknown as ConstructorParameters<typeof Deployment>[0]),
  ScaledObject: (m) => new ScaledObject(m as unknown as ConstructorParameters<typeof ScaledObject>[0]),
};
const documents = (text: string) => parseAllDocuments(text).map((d) => d.toJSON() as Manifest);

describe('Kubernetes and KEDA manifests from the provisioning policy', () => {
  test('deploy/kubernetes/sluice-workers.yaml is what workers.yaml generates (`sluice workers manifests --out …`)', () => {
    expect(fs.readFileSync(CHECKED_IN, 'utf8')).toBe(manifestsYaml(POLICY));
  });

  test('every object of the file validates offline against the Kubernetes and KEDA schemas; a wrong one does not', () => {
    const objects = documents(fs.readFileSync(CHECKED_IN, 'utf8'));
    expect(objects.map((o) => o.kind)).toEqual(['ConfigMap', 'Deployment', 'ScaledObject', 'Deployment', 'ScaledObject']);
    for (const o of objects) expect(() => MODELS[o.kind](o).validate()).not.toThrow();
    const broken = structuredClone(objects[2]) as { spec: { minReplicaCount: unknown } } & Manifest;
    broken.spec.minReplicaCount = 'zero';
    expect(() => MODELS.ScaledObject(broken).validate()).toThrow(/minReplicaCount must be integer/);
  });

  test("the policy's numbers drive KEDA: replicas, the target backlog per queue polled, cool-downs, and a grace period long enough to drain", () => {
    const objects = documents(manifestsYaml(POLICY));
    const python = POLICY.pools[1];
    const scaled = objects.filter((o) => o.kind === 'ScaledObject')[1] as unknown as { spec: { minReplicaCount: number; maxReplicaCount: number; cooldownPeriod: number; triggers: Array<{ type: string; metadata: Record<string, string> }> } };
    expect(scaled.spec).toMatchObject({ minReplicaCount: python.min, maxReplicaCount: python.max, cooldownPeriod: python.idleTimeoutSeconds });
    expect(scaled.spec.triggers.map((t) => [t.type, t.metadata.taskQueue, t.metadata.targetQueueSize, t.metadata.queueTypes])).toEqual(python.watch.map((q) => ['temporal', q, String(python.targetBacklog), 'workflow,activity']));
    const deployment = objects.filter((o) => o.kind === 'Deployment')[1] as unknown as { spec: { template: { spec: { terminationGracePeriodSeconds: number; containers: Array<{ image: string; env: Array<{ name: string; value: string }> }> } } } };
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(python.drainSeconds);
    expect(deployment.spec.template.spec.containers[0].image).toBe('sluice-python-worker:latest');
    expect(deployment.spec.template.spec.containers[0].env).toContainEqual({ name: 'SLUICE_PYTHON_TASK_QUEUE', value: 'sluice-python' });
  });
});
