import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { stringify } from 'yaml';
import type { PoolPolicy, WorkersPolicy } from './policy';

/** Where the cluster's workers find Temporal and the artifact store, and which images they run. */
export interface ClusterOptions {
  /** The Kubernetes namespace of every object. */
  namespace: string;
  /** The Temporal frontend, as the pods and KEDA reach it. */
  temporalAddress: string;
  temporalNamespace: string;
  /** The artifact store, `s3://bucket/prefix`: workers on many nodes share no disk. */
  artifacts: string;
  /** The images built from Dockerfile and workers/python/Dockerfile. */
  image: string;
  pythonImage: string;
  /** A Secret the operator creates with the S3 endpoint and credentials (AWS_ACCESS_KEY_ID, …): never in a manifest. */
  s3Secret: string;
}

export const DEFAULT_CLUSTER: ClusterOptions = {
  namespace: 'sluice',
  temporalAddress: 'temporal-frontend.temporal.svc.cluster.local:7233',
  temporalNamespace: 'default',
  artifacts: 's3://sluice/artifacts',
  image: 'sluice-worker:latest',
  pythonImage: 'sluice-python-worker:latest',
  s3Secret: 'sluice-s3',
};

const CONFIG = 'sluice-config';
/** Time a pod has between SIGTERM and SIGKILL beyond the drain: the worker's own shutdown. */
const SHUTDOWN_MARGIN_SECONDS = 15;

/** A DNS-1123 name from a task queue name. */
const dnsName = (queue: string) => `sluice-worker-${queue.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '')}`.slice(0, 63).replace(/-+$/, '');

/** The settings of the pool's workers that hold in a cluster: their queues and drain, not this machine's paths. */
function clusterEnv(pool: PoolPolicy): Array<{ name: string; value: string }> {
  const kept = Object.entries(pool.env).filter(([name]) => /^(SLUICE_TASK_QUEUE|SLUICE_PYTHON_TASK_QUEUE|SLUICE_REGISTRY_TASK_QUEUE|SLUICE_PYTHON_SLOTS|SLUICE_WORKER_ACTIVITIES)$/.test(name));
  return [...kept, ['SLUICE_WORKER_DRAIN_SECONDS', String(Math.round(pool.drainSeconds))]].map(([name, value]) => ({ name, value }));
}

function deployment(pool: PoolPolicy, options: ClusterOptions): Deployment {
  const name = dnsName(pool.queue);
  const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'sluice', 'sluice.dev/queue-kind': pool.kind };
  return new Deployment({
    metadata: { name, namespace: options.namespace, labels },
    spec: {
      // KEDA sets the replicas from the backlog; this is the count before it first does.
      replicas: pool.min,
      selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      template: {
        metadata: { labels },
        spec: {
          // Long enough to drain: running activities finish or end with their heartbeat checkpoint.
          terminationGracePeriodSeconds: Math.round(pool.drainSeconds) + SHUTDOWN_MARGIN_SECONDS,
          containers: [
            {
              name: 'worker',
              image: pool.kind === 'python' ? options.pythonImage : options.image,
              envFrom: [{ configMapRef: { name: CONFIG } }, { secretRef: { name: options.s3Secret } }],
              env: clusterEnv(pool),
              volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
            },
          ],
          volumes: [{ name: 'cache', emptyDir: {} }],
        },
      },
    },
  });
}

function scaledObject(pool: PoolPolicy, options: ClusterOptions, pollSeconds: number): ScaledObject {
  const name = dnsName(pool.queue);
  return new ScaledObject({
    metadata: { name, namespace: options.namespace, labels: { 'app.kubernetes.io/part-of': 'sluice' } },
    spec: {
      scaleTargetRef: { name },
      minReplicaCount: pool.min,
      maxReplicaCount: pool.max,
      pollingInterval: Math.max(1, Math.round(pollSeconds)),
      // Seconds after the last active trigger before scaling to zero: the idle timeout.
      cooldownPeriod: Math.round(pool.idleTimeoutSeconds),
      advanced: {
        horizontalPodAutoscalerConfig: {
          behavior: {
            scaleUp: { stabilizationWindowSeconds: Math.round(pool.scaleUpCooldownSeconds) },
            scaleDown: { stabilizationWindowSeconds: Math.round(pool.scaleDownCooldownSeconds) },
          },
        },
      },
      // One trigger per queue the workers poll; KEDA scales on the largest.
      triggers: pool.watch.map((taskQueue) => ({
        type: 'temporal',
        metadata: {
          endpointFromEnv: 'TEMPORAL_ADDRESS',
          namespace: options.temporalNamespace,
          taskQueue,
          queueTypes: 'workflow,activity',
          targetQueueSize: String(pool.targetBacklog),
          activationTargetQueueSize: '0',
        },
      })),
    },
  });
}

/** The cluster's objects for `policy`: the shared ConfigMap, then a Deployment and a KEDA ScaledObject per queue, each validated against its schema. */
export function clusterObjects(policy: WorkersPolicy, options: ClusterOptions = DEFAULT_CLUSTER): Array<ConfigMap | Deployment | ScaledObject> {
  const objects = [
    new ConfigMap({
      metadata: { name: CONFIG, namespace: options.namespace },
      data: { TEMPORAL_ADDRESS: options.temporalAddress, TEMPORAL_NAMESPACE: options.temporalNamespace, SLUICE_ARTIFACTS: options.artifacts, SLUICE_CACHE: '/cache' },
    }),
    ...policy.pools.flatMap((pool) => [deployment(pool, options), scaledObject(pool, options, policy.pollSeconds)]),
  ];
  for (const o of objects) o.validate();
  return objects;
}

/** The objects as one YAML stream, as `kubectl apply -f` reads it. */
export function manifestsYaml(policy: WorkersPolicy, options: ClusterOptions = DEFAULT_CLUSTER, source = 'workers.yaml'): string {
  const header = `# Generated by \`sluice workers manifests\` from ${source}: edit the policy and generate again.\n`;
  return header + clusterObjects(policy, options).map((o) => stringify(o.toJSON())).join('---\n');
}
