import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { readBacklog } from '../../workers/provisioner/backlog';
import { workerUsage, type WorkerUsage } from '../../workers/provisioner/ledger';
import { DEFAULT_CLUSTER, manifestsYaml } from '../../workers/provisioner/manifests';
import { loadPolicy, PolicyError, type WorkersPolicy } from '../../workers/provisioner/policy';
import { Provisioner } from '../../workers/provisioner/provisioner';
import { readState } from '../../workers/provisioner/state';
import { JSON_OPTION, output, UsageError, type Context, type Define } from './command';
import { table } from './table';

const POLICY = ['--policy <file>', 'the provisioning policy (queues, min/max, target backlog, cool-downs, idle timeout)', 'workers.yaml'] as const;

function policyOf(file: string): WorkersPolicy {
  try {
    return loadPolicy(path.resolve(file));
  } catch (err) {
    if (err instanceof PolicyError) throw new UsageError(err.message);
    throw err;
  }
}

/** A duration such as 90s, 30m, 12h or 7d, in milliseconds. */
export function duration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)([smhd])$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('expects a duration such as 30m, 12h or 1d');
  return Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
}

const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
const seconds = (s: number) => (s >= 3600 ? `${(s / 3600).toFixed(1)}h` : s >= 60 ? `${(s / 60).toFixed(1)}m` : `${Math.round(s)}s`);

/** The provisioning ledger as `sluice cost --workers` prints it: a row per worker process, then the totals per queue. */
export function usageTable(usage: WorkerUsage[]): string {
  if (usage.length === 0) return 'no workers were provisioned in that period (`sluice workers run` starts the provisioner)';
  const rows = usage.map((u) => [u.queue, u.pid, when(u.startedAt), u.stoppedAt ? when(u.stoppedAt) : 'running', seconds(u.seconds), seconds(u.busySeconds), seconds(u.idleSeconds), u.reason ?? '']);
  const queues = [...new Set(usage.map((u) => u.queue))];
  const totals = queues.map((q) => {
    const of = usage.filter((u) => u.queue === q);
    const sum = (f: (u: WorkerUsage) => number) => of.reduce((s, u) => s + f(u), 0);
    return [q, `${of.length} worker${of.length === 1 ? '' : 's'}`, seconds(sum((u) => u.seconds)), seconds(sum((u) => u.busySeconds)), seconds(sum((u) => u.idleSeconds))];
  });
  return [
    table([{ head: 'queue' }, { head: 'pid', right: true }, { head: 'started' }, { head: 'stopped' }, { head: 'worker-seconds', right: true }, { head: 'busy', right: true }, { head: 'idle', right: true }, { head: 'why it stopped' }], rows),
    '',
    table([{ head: 'queue' }, { head: 'workers' }, { head: 'worker-seconds', right: true }, { head: 'busy', right: true }, { head: 'idle', right: true }], totals),
  ].join('\n');
}

async function status(context: Context, policy: WorkersPolicy): Promise<number> {
  const state = readState(policy.stateDir);
  const now = Date.now();
  const queues = await Promise.all(
    policy.pools.map(async (pool) => {
      const backlog = await readBacklog(context.client, pool.watch);
      const workers = state.workers.filter((w) => w.queue === pool.queue);
      return { queue: pool.queue, kind: pool.kind, min: pool.min, max: pool.max, backlog: backlog.count, backlogAgeSeconds: backlog.ageSeconds, workers: workers.map((w) => ({ pid: w.pid, since: w.startedAt, busySeconds: w.busySeconds, idleSeconds: w.idleSeconds, stopping: w.stoppingSince !== undefined })), waiting: state.queues[pool.queue]?.waiting };
    }),
  );
  const view = { provisioner: state.provisioner, queues, decisions: state.decisions };
  output(context, view, () =>
    [
      state.provisioner ? `provisioner pid ${state.provisioner.pid}, since ${when(state.provisioner.since)}` : 'no provisioner runs on this policy (`sluice workers run` starts it); its workers, if any, keep working',
      '',
      table(
        [{ head: 'queue' }, { head: 'kind' }, { head: 'min-max' }, { head: 'backlog', right: true }, { head: 'oldest', right: true }, { head: 'workers', right: true }, { head: 'draining', right: true }, { head: 'waits' }],
        queues.map((q) => [q.queue, q.kind, `${q.min}-${q.max}`, q.backlog, q.backlog > 0 ? seconds(q.backlogAgeSeconds) : '-', q.workers.filter((w) => !w.stopping).length, q.workers.filter((w) => w.stopping).length, q.waiting ?? '']),
      ),
      ...(state.workers.length > 0 ? ['', table([{ head: 'queue' }, { head: 'pid', right: true }, { head: 'up', right: true }, { head: 'busy', right: true }, { head: 'idle', right: true }], state.workers.map((w) => [w.queue, w.pid, seconds((now - w.startedAt) / 1000), seconds(w.busySeconds), seconds(w.idleSeconds)]))] : []),
      '',
      state.decisions.length === 0 ? 'no decisions yet' : ['recent decisions:', ...state.decisions.slice(-10).map((d) => `  ${when(d.at)}  ${d.text}`)].join('\n'),
    ].join('\n'),
  );
  return 0;
}

export const workers: Define = (program, run) => {
  const command = program.command('workers').description('provisioning: worker processes started and stopped from the backlog of their task queues');
  command
    .command('run')
    .description('run the provisioner until SIGINT / SIGTERM (its workers keep running, for the next provisioner to adopt)')
    .option(...POLICY)
    .option(...JSON_OPTION)
    .action((options) =>
      run(options, async (context) => {
        const policy = policyOf(options.policy);
        const provisioner = new Provisioner(context.client, policy, context.print);
        context.print(`sluice workers: provisioning ${policy.pools.map((p) => `${p.queue} (${p.kind}, ${p.min}-${p.max})`).join(', ')}; state in ${policy.stateDir}`);
        const stop = () => provisioner.stop();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          await provisioner.run();
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
        return 0;
      }),
    );
  command
    .command('status')
    .description("each queue's backlog and its age, its workers (busy or idle), and the provisioner's recent decisions and why")
    .option(...POLICY)
    .option(...JSON_OPTION)
    .action((options) => run(options, (context) => status(context, policyOf(options.policy))));
  command
    .command('manifests')
    .description('the same policy for a Kubernetes cluster: a Deployment and a KEDA ScaledObject (temporal scaler) per queue, validated against their schemas')
    .option(...POLICY)
    .option('--out <file>', 'write them to a file (else print them)')
    .option('--namespace <name>', 'the Kubernetes namespace', DEFAULT_CLUSTER.namespace)
    .option('--temporal <address>', 'the Temporal frontend as pods and KEDA reach it', DEFAULT_CLUSTER.temporalAddress)
    .option('--temporal-namespace <name>', 'the Temporal namespace', DEFAULT_CLUSTER.temporalNamespace)
    .option('--artifacts <url>', 'the artifact store, s3://bucket/prefix', DEFAULT_CLUSTER.artifacts)
    .option('--image <image>', 'the worker image (Dockerfile)', DEFAULT_CLUSTER.image)
    .option('--python-image <image>', 'the Python worker image (workers/python/Dockerfile)', DEFAULT_CLUSTER.pythonImage)
    .option('--s3-secret <name>', 'the Secret with the S3 endpoint and credentials, created apart', DEFAULT_CLUSTER.s3Secret)
    // No connection: manifests need no server.
    .action((options) => {
      const yaml = manifestsYaml(policyOf(options.policy), { namespace: options.namespace, temporalAddress: options.temporal, temporalNamespace: options.temporalNamespace, artifacts: options.artifacts, image: options.image, pythonImage: options.pythonImage, s3Secret: options.s3Secret }, path.basename(options.policy));
      if (options.out) fs.writeFileSync(options.out, yaml);
      else process.stdout.write(yaml);
    });
};

/** `sluice cost --workers`: the provisioning ledger since `--since`. */
export function workersCost(context: Context, policyFile: string, sinceMs: number | undefined): number {
  const policy = policyOf(policyFile);
  const state = readState(policy.stateDir);
  const usage = workerUsage(policy.stateDir, state.workers, sinceMs === undefined ? 0 : Date.now() - sinceMs);
  output(context, usage, () => usageTable(usage));
  return 0;
}
