import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { stringify } from 'yaml';
import { workersOf } from '../contracts/ledger';
import { run as sluice } from '../scripts/sluice-cli';
import { workerUsage } from '../workers/provisioner/ledger';
import { isAlive, readState } from '../workers/provisioner/state';
import { sqlString, withDuckDB } from '../activities/sql/duckdb';
import { backfill } from '../workflows/backfill';
import { batchInference, inferenceProgressQuery } from '../workflows/batch-inference';
import { trainPipeline } from '../workflows/train-pipeline';
import { eventually } from './support/eventually';
import { startWorkerProcess } from './support/processes';
import { smallFlightsSpec } from './support/specs';
import { TEST_ARTIFACTS, testConfig } from './support/temporal';

const ROOT = path.resolve(__dirname, '..');
const FLIGHTS = path.join(ROOT, 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');
const EventType = temporal.api.enums.v1.EventType;

/** `sluice workers run` as its own process; `output` collects what it prints. */
function provisioner(policy: string, output: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'sluice-cli.ts'), 'workers', 'run', '--policy', policy], {
    cwd: ROOT,
    env: { ...process.env, TEMPORAL_ADDRESS: process.env.SLUICE_TEST_ADDRESS },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const read = (chunk: Buffer) => output.push(...chunk.toString().split('\n').filter((l) => l.trim() !== ''));
  child.stdout?.on('data', read);
  child.stderr?.on('data', read);
  return child;
}

const waitFor = (lines: string[], pattern: RegExp, what: string) =>
  eventually(
    async () => lines.find((l) => pattern.test(l)),
    (line) => line !== undefined,
    `${what}; the provisioner printed:\n${lines.join('\n')}`,
    90_000,
  ) as Promise<string>;

/** The pid of every worker process that ran a task of `workflowId` (a TypeScript worker's identity is pid@host). */
async function workerPids(client: Client, workflowId: string): Promise<number[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const identities = (history.events ?? []).flatMap((e) => {
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) return [e.activityTaskStartedEventAttributes?.identity ?? ''];
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED) return [e.workflowTaskStartedEventAttributes?.identity ?? ''];
    return [];
  });
  return [...new Set(identities.map((i) => Number(i.split('@')[0])))];
}

describe('provisioning: sluice workers', () => {
  const children: ChildProcess[] = [];
  let connection: Connection;
  const stateDirs: string[] = [];
  beforeAll(async () => {
    connection = await Connection.connect({ address: process.env.SLUICE_TEST_ADDRESS as string });
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    // Workers the provisioner started outlive it by design: stop the ones a failed test left.
    for (const dir of stateDirs) for (const w of readState(dir).workers) process.kill(w.pid, 'SIGKILL');
    await connection?.close();
  });

  it('starts a worker for a backlog from zero, survives its own SIGKILL by adopting it, scales a backfill up to max, stops the workers when idle, and books exactly the processes that ran', async () => {
    const { taskQueue: queue } = testConfig(`provision-${process.pid}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-provision-'));
    const stateDir = path.join(dir, 'state');
    stateDirs.push(stateDir);
    const policyFile = path.join(dir, 'workers.yaml');
    const env = { TEMPORAL_ADDRESS: process.env.SLUICE_TEST_ADDRESS as string, SLUICE_ARTIFACTS: TEST_ARTIFACTS, SLUICE_REGISTRY_TASK_QUEUE: `${queue}-registry`, SLUICE_WORKER_ACTIVITIES: '1' };
    fs.writeFileSync(
      policyFile,
      stringify({ poll_seconds: 1, state_dir: 'state', queues: { [queue]: { kind: 'typescript', min: 0, max: 2, target_backlog: 1, scale_up_cooldown_seconds: 2, scale_down_cooldown_seconds: 1, idle_timeout_seconds: 4, drain_seconds: 5, env } } }),
    );
    const client = new Client({ connection });
    const print: string[] = [];
    const cli = async (...argv: string[]) => {
      print.length = 0;
      const code = await sluice(argv, client, (line) => print.push(line), { ...testConfig(queue), address: process.env.SLUICE_TEST_ADDRESS as string });
      expect(code).toBe(0);
      return print.join('\n');
    };

    // Nothing queued: the provisioner starts nothing.
    const first: string[] = [];
    children.push(provisioner(policyFile, first));
    await eventually(async () => readState(stateDir).queues[queue]?.readAt, (at) => at !== undefined, 'the provisioner read the queue');
    expect(readState(stateDir).workers).toEqual([]);

    // A training run queued with no worker: one is started within seconds.
    const spec = smallFlightsSpec('provisioning', (s) => {
      s.inference = { shard_rows: 15_000, slice_rows: 15_000, max_parallel_shards: 2, sink: { type: 'parquet', path: path.join(dir, 'scores') } };
    });
    const trainId = `provision-train-${process.pid}`;
    const training = client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: queue, workflowId: trainId });
    await waitFor(first, /scaled .* 0 → 1: backlog [12]/, 'a worker is asked for');
    const started = await waitFor(first, /started worker pid \d+/, 'a worker is started');
    const pid = Number(/pid (\d+)/.exec(started)?.[1]);

    // The provisioner is killed; its worker works on, and the next provisioner adopts it instead of starting another.
    children[0].kill('SIGKILL');
    await new Promise((resolve) => children[0].once('exit', resolve));
    const second: string[] = [];
    children.push(provisioner(policyFile, second));
    await waitFor(second, new RegExp(`adopted 1 running worker: ${queue} pid ${pid}`), 'the worker is adopted');
    const status = await cli('workers', 'status', '--policy', policyFile);
    expect(status).toMatch(new RegExp(`^${queue}\\s+typescript\\s+0-2\\s+\\d+\\s+\\S+\\s+1\\s+0`, 'm'));
    expect(status).toContain('recent decisions:');

    const trained = await (await training).result();
    expect(trained.promoted).toBe(true);
    // A backfill of twelve days in small shards, four days at a time, on workers that take one activity at a time:
    // the backlog grows, and the provisioner starts the second worker, never a third.
    const backfillId = `provision-backfill-${process.pid}`;
    const filled = await client.workflow.execute(backfill, { args: [{ spec, from: '2001-01-25', to: '2001-02-05' }], taskQueue: queue, workflowId: backfillId });
    expect(filled.published).toHaveLength(12);
    expect(filled.failed).toEqual([]);
    const scaledTo = readState(stateDir).decisions.map((d) => Number(/→ (\d+)/.exec(d.text)?.[1] ?? 0));
    expect(Math.max(...scaledTo)).toBe(2);
    // Every day's rows, exactly, in the sink.
    const [sunk, source] = await withDuckDB(async (c) =>
      Promise.all(
        [`read_parquet(${sqlString(path.join(dir, 'scores', '*', '*.parquet'))})`, `read_parquet(${sqlString(FLIGHTS)}) WHERE CAST(date AS DATE) BETWEEN DATE '2001-01-25' AND DATE '2001-02-05'`].map(
          async (from) => Number((await c.runAndReadAll(`SELECT count(*) FROM (SELECT date, origin, destination FROM ${from})`)).getRowsJS()[0][0]),
        ),
      ),
    );
    expect(sunk).toBe(source);
    expect(filled.rows).toBe(source);

    // Idle for the idle timeout: every worker is stopped, drained, and booked.
    await eventually(async () => readState(stateDir).workers.length, (n) => n === 0, 'the idle workers are stopped', 90_000);
    const booked = workerUsage(stateDir, []);
    const ran = new Set(await workerPids(client, trainId));
    for (const id of [backfillId, ...filled.published.map((day) => `${backfillId}-${day}`)]) for (const p of await workerPids(client, id)) ran.add(p);
    expect(new Set(booked.map((u) => u.pid))).toEqual(ran);
    expect(booked.map((u) => u.pid)).toContain(pid);
    for (const u of booked) {
      expect(u.reason).toBe('scaled down');
      expect(u.busySeconds).toBeGreaterThan(0);
      expect(u.idleSeconds).toBeGreaterThanOrEqual(3);
      expect(u.busySeconds + u.idleSeconds).toBeLessThanOrEqual(u.seconds + 2);
    }
    // Gone (a zombie whose parent, the killed provisioner, cannot reap it counts as gone).
    for (const u of booked) expect(isAlive(u.pid, undefined)).toBe(false);
    // The run's own ledger names the workers that served it (`sluice cost <run>` and the report print them).
    expect(workersOf(trained.ledger ?? { entries: [] }).map((w) => w.worker)).toContain(`${pid}@${os.hostname()}`);
    const cost = await cli('cost', '--workers', '--policy', policyFile);
    expect(cost).toMatch(new RegExp(`^${queue}\\s+${pid}\\s+.*scaled down$`, 'm'));
    expect(cost).toMatch(new RegExp(`^${queue}\\s+${booked.length} workers?\\s`, 'm'));
  }, 300_000);

  it('a worker stopped mid-shard (SIGTERM, as a scale-down sends it) drains, and the shard resumes from its slice on another worker', async () => {
    const { taskQueue: queue } = testConfig(`provision-drain-${process.pid}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-provision-drain-'));
    const env = { TEMPORAL_ADDRESS: process.env.SLUICE_TEST_ADDRESS as string, SLUICE_ARTIFACTS: TEST_ARTIFACTS, SLUICE_TASK_QUEUE: queue, SLUICE_REGISTRY_TASK_QUEUE: `${queue}-registry`, SLUICE_WORKER_DRAIN_SECONDS: '1' };
    const spec = smallFlightsSpec('provisioning-drain', (s) => {
      s.inference = { shard_rows: 3_000_000, slice_rows: 1, max_parallel_shards: 1, sink: { type: 'parquet', path: path.join(dir, 'scores') } };
      s.execution = { heartbeat_timeout: '3s' };
      s.on_failure = { wait_for_operator: false };
    });
    const client = new Client({ connection });
    const first = await startWorkerProcess(env);
    children.push(first);
    await client.workflow.execute(trainPipeline, { args: [{ spec }], taskQueue: queue, workflowId: `provision-drain-train-${process.pid}` });
    const handle = await client.workflow.start(batchInference, { args: [{ spec, from: '2001-01-25', to: '2001-06-30' }], taskQueue: queue, workflowId: `provision-drain-${process.pid}` });
    await eventually(
      async () => ((await handle.describe()).raw.pendingActivities ?? []).find((a) => a.activityType?.name === 'scoreShard')?.heartbeatDetails,
      (details) => details !== undefined && details !== null,
      'a shard checkpoint',
    );
    const exited = new Promise<number | null>((resolve) => first.once('exit', (code) => resolve(code)));
    first.kill('SIGTERM');
    // It drains and exits on its own, well before any kill.
    expect(await exited).toBe(0);
    children.push(await startWorkerProcess(env));
    const result = await handle.result();
    const progress = await handle.query(inferenceProgressQuery);
    expect(progress.shards).toHaveLength(1);
    expect(progress.shards[0].resumedFromSlice).toBeGreaterThanOrEqual(1);
    expect(result.days).toBe(157);
    expect(result.sink?.rows).toBe(result.rows);
  }, 300_000);

  it('a GBDT run with min: 0 on the Python queue: a Python worker is started for its training and stopped afterwards', async () => {
    const { taskQueue: queue } = testConfig(`provision-gbdt-${process.pid}`);
    const pythonQueue = `${queue}-python`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-provision-gbdt-'));
    const state = path.join(dir, 'state');
    stateDirs.push(state);
    const policyFile = path.join(dir, 'workers.yaml');
    const common = { TEMPORAL_ADDRESS: process.env.SLUICE_TEST_ADDRESS as string, SLUICE_ARTIFACTS: TEST_ARTIFACTS };
    const quick = { min: 0, max: 1, scale_up_cooldown_seconds: 1, scale_down_cooldown_seconds: 1, idle_timeout_seconds: 3, drain_seconds: 5 };
    fs.writeFileSync(
      policyFile,
      stringify({
        poll_seconds: 1,
        state_dir: 'state',
        queues: { [queue]: { kind: 'typescript', ...quick, env: { ...common, SLUICE_REGISTRY_TASK_QUEUE: `${queue}-registry` } }, [pythonQueue]: { kind: 'python', ...quick, env: common } },
      }),
    );
    const lines: string[] = [];
    children.push(provisioner(policyFile, lines));
    const spec = smallFlightsSpec('provisioning-gbdt', (s) => {
      s.trainer = { type: 'lightgbm', trees: 30, leaves: 15, seed: 3, threads: 2 };
      s.execution = { python_task_queue: pythonQueue };
      s.on_failure = { wait_for_operator: false };
    });
    const client = new Client({ connection });
    const trainId = `provision-gbdt-${process.pid}`;
    const trained = await client.workflow.execute(trainPipeline, { args: [{ spec }], taskQueue: queue, workflowId: trainId });
    expect(trained.promoted).toBe(true);
    await waitFor(lines, new RegExp(`scaled ${pythonQueue} 0 → 1: backlog`), 'a Python worker is asked for');
    await eventually(async () => readState(state).workers.length, (n) => n === 0, 'both workers are stopped once idle', 90_000);
    const booked = workerUsage(state, []);
    const python = booked.filter((u) => u.queue === pythonQueue);
    expect(python).toHaveLength(1);
    expect(python[0]).toMatchObject({ reason: 'scaled down' });
    expect(python[0].busySeconds).toBeGreaterThan(0);
    // The train step ran on that Python process.
    expect(await workerPids(client, trainId)).toContain(python[0].pid);
    expect(isAlive(python[0].pid, undefined)).toBe(false);
  }, 300_000);
});
