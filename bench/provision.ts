/**
 * Benchmark: provisioning (`npm run bench:provision`), in one run on a headless dev server.
 *  1. A 30-day backfill (February 2001, small shards) with one fixed worker process, then with the provisioner
 *     (`sluice workers run`, min 0, max 2) starting and stopping workers: their wall times.
 *  2. The idle worker-seconds of the provisioner's workers, from the backfill's start until they were stopped,
 *     against two fixed workers kept up for the same period (doing the same work).
 * On a 2-core machine the speed-up is small; the idle saving is the figure that matters.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { parse, stringify } from 'yaml';
import { defaultDataRoots } from '../activities/storage/data-roots';
import { startDevServer, stopDevServer } from '../scripts/dev-server';
import { workerUsage } from '../workers/provisioner/ledger';
import { readState } from '../workers/provisioner/state';
import { backfill } from '../workflows/backfill';
import { trainPipeline } from '../workflows/train-pipeline';

const ROOT = path.resolve(__dirname, '..');
const PORT = 7252;
const QUEUE = 'bench-provision';
const DAYS = { from: '2001-02-01', to: '2001-03-02' };

/** The flights pipeline trained on three weeks of January, scoring in small shards to `sink`. */
function specFile(work: string, name: string, sink: string): string {
  const file = path.join(ROOT, 'pipelines', 'flights.yaml');
  const spec = parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown> & { sources: Record<string, { path: string }> };
  for (const source of Object.values(spec.sources)) source.path = path.resolve(path.dirname(file), source.path);
  Object.assign(spec, {
    name,
    split: { train: { from: '2001-01-01', to: '2001-01-21' }, validate: { from: '2001-01-22', to: '2001-01-24' } },
    gates: { min_auc: 0.55, max_log_loss: 0.69, beat_baseline: false },
    inference: { shard_rows: 8_000, slice_rows: 8_000, max_parallel_shards: 2, sink: { type: 'parquet', path: sink } },
  });
  delete spec.schedule;
  const out = path.join(work, `${name}.yaml`);
  fs.writeFileSync(out, stringify(spec));
  return out;
}

function startProcess(args: string[], env: Record<string, string>, ready: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(ready)) resolve(child);
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}:\n${output}`)));
  });
}

const stop = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM'))));

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-provision-'));
  const server = await startDevServer({ port: PORT, headless: true, stateDir: path.join(work, 'server') });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const env = { SLUICE_DATA_ROOTS: [work, ...defaultDataRoots(ROOT)].join(path.delimiter), TEMPORAL_ADDRESS: server.address, SLUICE_ARTIFACTS: path.join(ROOT, '.sluice', 'bench-artifacts'), SLUICE_TASK_QUEUE: QUEUE, SLUICE_REGISTRY_TASK_QUEUE: `${QUEUE}-registry` };
  const children: ChildProcess[] = [];
  try {
    // One model for both backfills; each backfill is a pipeline of its own, so neither finds the other's days published.
    const fixedSpec = specFile(work, 'bench-provision-fixed', path.join(work, 'fixed'));
    const provisionedSpec = specFile(work, 'bench-provision-provisioned', path.join(work, 'provisioned'));

    const fixed = await startProcess(['workers/main.ts'], env, 'sluice worker polling');
    children.push(fixed);
    for (const spec of [fixedSpec, provisionedSpec]) await client.workflow.execute(trainPipeline, { args: [{ spec }], taskQueue: QUEUE, workflowId: `train-${path.basename(spec)}` });
    let t = performance.now();
    const one = await client.workflow.execute(backfill, { args: [{ spec: fixedSpec, ...DAYS }], taskQueue: QUEUE, workflowId: 'backfill-fixed' });
    const fixedSeconds = (performance.now() - t) / 1000;
    await stop(fixed);

    const stateDir = path.join(work, 'provisioner');
    const policy = path.join(work, 'workers.yaml');
    const { SLUICE_TASK_QUEUE: _queue, ...poolEnv } = env;
    fs.writeFileSync(policy, stringify({ poll_seconds: 1, state_dir: stateDir, queues: { [QUEUE]: { kind: 'typescript', min: 0, max: 2, target_backlog: 1, scale_up_cooldown_seconds: 3, scale_down_cooldown_seconds: 5, idle_timeout_seconds: 10, drain_seconds: 10, env: poolEnv } } }));
    const provisioner = await startProcess(['scripts/sluice-cli.ts', 'workers', 'run', '--policy', policy], { TEMPORAL_ADDRESS: server.address }, 'sluice workers: provisioning');
    children.push(provisioner);
    const started = Date.now();
    t = performance.now();
    const two = await client.workflow.execute(backfill, { args: [{ spec: provisionedSpec, ...DAYS }], taskQueue: QUEUE, workflowId: 'backfill-provisioned' });
    const provisionedSeconds = (performance.now() - t) / 1000;
    while (readState(stateDir).workers.length > 0) await new Promise((r) => setTimeout(r, 1000));
    await stop(provisioner);

    const usage = workerUsage(stateDir, []);
    const period = (Math.max(...usage.map((u) => u.stoppedAt ?? Date.now())) - started) / 1000;
    const sum = (f: (u: (typeof usage)[number]) => number) => usage.reduce((s, u) => s + f(u), 0);
    const busy = sum((u) => u.busySeconds);
    const idle = sum((u) => u.idleSeconds);
    const fixedIdle = 2 * period - busy;
    console.log(`provisioning benchmark: a ${one.published.length}-day backfill (${DAYS.from} … ${DAYS.to}), shards of 8,000 rows`);
    console.log(`  one fixed worker:               ${fixedSeconds.toFixed(1)} s`);
    console.log(`  provisioner, min 0, max 2:      ${provisionedSeconds.toFixed(1)} s (workers started: ${usage.length}); speed-up ${(fixedSeconds / provisionedSeconds).toFixed(2)}×`);
    console.log(`  from the backfill's start until its workers were stopped, ${period.toFixed(1)} s:`);
    console.log(`    provisioner's workers:        ${sum((u) => u.seconds).toFixed(1)} worker-seconds, busy ${busy.toFixed(1)}, idle ${idle.toFixed(1)}`);
    console.log(`    two fixed workers:            ${(2 * period).toFixed(1)} worker-seconds, idle ${fixedIdle.toFixed(1)} (the same busy seconds)`);
    console.log(`idle worker-seconds, provisioner / two fixed workers: ${(idle / fixedIdle).toFixed(2)}; between nightly runs the provisioner keeps none, two fixed workers 2 per second`);
    if (two.published.length !== one.published.length || two.rows !== one.rows) throw new Error(`the backfills published ${one.published.length} days (${one.rows} rows) and ${two.published.length} (${two.rows})`);
  } finally {
    for (const child of children) child.kill('SIGKILL');
    // The provisioner's workers outlive it by design.
    for (const w of readState(path.join(work, 'provisioner')).workers) process.kill(w.pid, 'SIGKILL');
    await connection.close();
    await stopDevServer(PORT, path.join(work, 'server'));
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
