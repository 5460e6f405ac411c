import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { run } from '../scripts/sluice-cli';
import { UsageError } from '../scripts/cli/command';
import { progressText, type ProgressView } from '../scripts/cli/progress-bar';
import { createSluiceWorker } from '../workers/create-worker';
import { batchInference } from '../workflows/batch-inference';
import type { CostLedger } from '../contracts/ledger';
import { rootCause } from '../contracts/root-cause';
import { SluiceCpuSeconds, SluiceRows, SluiceStatus } from '../contracts/search-attributes';
import { trainPipeline } from '../workflows/train-pipeline';
import { eventually } from './support/eventually';
import { scheduledActivities } from './support/history';
import { flightsSpec, smallFlightsSpec, writeSpec } from './support/specs';
import { harness, type TestHarness } from './support/temporal';
import { recordHistory } from './support/record-history';

const ROOT = path.resolve(__dirname, '..');

/** The `sluice` CLI on a live dev server, budgets that stop runs, and per-queue routing of heavy steps. */
let h: TestHarness;
let sinks: string;
let counter = 0;

beforeAll(async () => {
  h = await harness('operate');
  sinks = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-operate-'));
});
afterAll(async () => {
  await h?.close();
});

/** Runs the CLI against the test server: exit code, printed lines and progress lines. */
async function sluice(...argv: string[]): Promise<{ code: number; output: string; progress: string[]; shares: number[] }> {
  const lines: string[] = [];
  const views: ProgressView[] = [];
  const code = await run(argv, h.client, (line) => lines.push(line), h.config, (view) => views.push(view));
  return { code, output: lines.join('\n'), progress: views.map(progressText), shares: views.map((v) => v.share ?? -1) };
}

/** The failure message and type at the bottom of a failed run. */
async function failureOf(handle: WorkflowHandle): Promise<{ message: string; type?: string }> {
  const err = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof WorkflowFailedError)) throw new Error(`expected the run to fail, got ${String(err)}`);
  const root = rootCause(err.cause);
  return { message: root?.message ?? '', type: root?.type ?? undefined };
}

describe('the sluice CLI on a live dev server', () => {
  it('trains, scores and backfills with a progress display, then lists the runs, their status and their cost', async () => {
    const spec = smallFlightsSpec('cli', (s) => {
      s.inference = { shard_rows: 20_000, slice_rows: 20_000, max_parallel_shards: 2, sink: { type: 'parquet', path: path.join(sinks, 'cli') } };
      s.budget = { max_cpu_seconds: 600, max_rows: 10_000_000 };
    });
    await h.withWorker(async () => {
      const trained = await sluice('train', spec);
      expect(trained.code).toBe(0);
      expect(trained.output).toMatch(/^started train-cli-/);
      expect(trained.output).toContain('Promotion (auto): PROMOTED');
      expect(trained.output).toMatch(/^Report: \S+\/reports\/train-cli-\S+\/report\.html$/m);
      expect(trained.progress.at(-1)).toMatch(/completed \[#{24}\] 100% step 8\/8/);
      expect(trained.shares.at(-1)).toBe(1);
      expect(trained.output).toMatch(/^step +status +wall s +cpu s +detail$/m);
      expect(trained.output).toMatch(/^train +(done|reused) +\d+\.\d\d +\d+\.\d\d +\S/m); // reused when another test trained the same model first
      const trainId = /started (\S+)/.exec(trained.output)?.[1] as string;

      const scored = await sluice('infer', spec, '2001-01-25', '2001-01-26');
      expect(scored.code).toBe(0);
      expect(scored.output).toMatch(/Scored \d+ rows of cli \(2001-01-25 \.\. 2001-01-26, 2 days, 2 shards\) with model v1/);
      expect(scored.progress.at(-1)).toMatch(/completed \[#{24}\] 100% [\d,]+ of [\d,]+ rows, 2\/2 shards, published/);

      const filled = await sluice('backfill', spec, '2001-01-25', '2001-01-27');
      expect(filled.code).toBe(0);
      expect(filled.output).toContain('Published 1 days');
      expect(filled.output).toContain('2 days were already published');

      const cost = JSON.parse((await sluice('cost', trainId, '--json')).output) as CostLedger;
      expect(cost.entries.map((e) => e.step)).toEqual(['load-spec', 'extract', 'features', 'train', 'evaluate', 'register', 'report']);
      expect(cost.rows).toBe(cost.entries[1].cost.rowsOut);
      expect(cost.rows).toBeGreaterThan(300_000);
      expect(cost.total.cpuSeconds).toBeGreaterThan(0);
      expect(cost.budgetLines[0]).toMatch(/^cpu seconds \d+\.\d\d of 600 \(\d+\.\d%\)$/);
      const table = (await sluice('cost', trainId)).output;
      expect(table).toMatch(/^step +start +wall s +cpu s +peak MiB +rows in +rows out +MiB in +MiB out$/m);
      expect(table).toMatch(/^extract +\d\d:\d\d:\d\d +\d+\.\d\d/m);
      expect(table).toMatch(/^total /m);

      const status = await sluice('status', trainId);
      expect(status.code).toBe(0);
      expect(status.output).toContain(`${trainId} completed [########################] 100%`);

      // Search attributes reach visibility a moment after the run ends.
      const listed = await eventually(
        async () => JSON.parse((await sluice('runs', '--pipeline', 'cli', '--type', 'trainPipeline', '--json')).output) as Array<{ workflowId: string; rows?: number; cpuSeconds?: number; sluiceStatus?: string }>,
        (rows) => rows.length === 1 && rows[0].rows !== undefined,
        'the run in the visibility store',
      );
      expect(listed[0]).toMatchObject({ workflowId: trainId, sluiceStatus: 'promoted', rows: cost.rows });
      expect(listed[0].cpuSeconds).toBeCloseTo(cost.total.cpuSeconds, 2);
      const all = (await sluice('runs', '--pipeline', 'cli')).output.split('\n');
      expect(all[0]).toMatch(/^run +type +status +started +model +checks +rows +cpu s$/);
      expect(all.filter((l) => l.includes('batchInference'))).toHaveLength(2); // the infer run and the backfill's child for the one new day
    });
  });

  it('explains every command with --help, and refuses mistakes with a usage error', async () => {
    for (const command of ['train', 'infer', 'backfill', 'runs', 'status', 'cost', 'resume', 'models', 'promote', 'rollback', 'schedule']) {
      const help = await sluice(command, '--help');
      expect(help.code).toBe(0);
      expect(help.output).toMatch(new RegExp(`^Usage: sluice ${command} `));
    }
    await expect(sluice('trian', 'x.yaml')).rejects.toThrow(new UsageError("unknown command 'trian'\n(Did you mean train?)"));
    await expect(sluice('infer', 'x.yaml')).rejects.toThrow("missing required argument 'day'");
    await expect(sluice('backfill', 'x.yaml', '2001-01-01', '2001-01-02', '--concurrency', 'many')).rejects.toThrow("option '--concurrency <n>' argument 'many' is invalid. expects a whole number");
    await expect(sluice('promote', 'flights', '2')).rejects.toThrow("required option '--reason <why>' not specified");
    await expect(sluice('status', 'no-such-run')).rejects.toThrow('no run no-such-run: list runs with `sluice runs`');
  });

  it('refuses a misspelt option with exit code 2 and a suggestion, and starts nothing', async () => {
    const query = `WorkflowType = "batchInference" AND TaskQueue = "${h.config.taskQueue}"`;
    const before = (await h.client.workflow.count(query)).count;
    const cli = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'sluice.cjs'), 'infer', 'pipelines/flights.yaml', '2001-06-30', '--model-verison', '3'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, TEMPORAL_ADDRESS: h.config.address, SLUICE_TASK_QUEUE: h.config.taskQueue },
      timeout: 60_000, // a run started by mistake would be followed until it ends
    });
    expect(cli.status).toBe(2);
    expect(cli.stderr).toContain("sluice: unknown option '--model-verison'\n(Did you mean --model-version?)");
    expect(cli.stdout).toBe('');
    expect((await h.client.workflow.count(query)).count).toBe(before);
  });
});

describe('budgets', () => {
  it('stops a training run that reads more rows than its budget before it builds features', async () => {
    const spec = smallFlightsSpec('budget-rows', (s) => (s.budget = { max_rows: 1000 }));
    const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `budget-rows-${process.pid}-${++counter}` });
    const failure = await h.withWorker(() => failureOf(handle));
    recordHistory(handle, 'over-budget');
    expect(failure.type).toBe('SluiceBudgetExceeded');
    expect(failure.message).toMatch(/^budget\.max_rows: the run reads \d+ rows, over its budget of 1000; stopped before features$/);
    expect((await scheduledActivities(handle)).map((a) => a.type)).toEqual(['loadSpec', 'extract']);
    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(SluiceStatus)).toBe('over-budget');
    expect(described.typedSearchAttributes.get(SluiceRows)).toBeGreaterThan(1000);
    const ledger = (await h.withWorker(() => sluice('cost', handle.workflowId))).output;
    expect(ledger).toContain('STOPPED BY THE BUDGET: budget.max_rows');
  });

  it('stops a training run that used its CPU seconds, naming the step it did not start', async () => {
    const spec = smallFlightsSpec('budget-cpu', (s) => {
      s.split = { train: { from: '2001-01-01', to: '2001-01-14' }, validate: { from: '2001-01-15', to: '2001-01-16' } }; // a window no other test extracts
      s.budget = { max_cpu_seconds: 0.001 };
    });
    const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `budget-cpu-${process.pid}-${++counter}` });
    const failure = await h.withWorker(() => failureOf(handle));
    expect(failure.message).toMatch(/^budget\.max_cpu_seconds: the run has used \d+\.\d{3} CPU seconds, over its budget of 0\.001; stopped before features$/);
    expect((await handle.describe()).typedSearchAttributes.get(SluiceCpuSeconds)).toBeGreaterThan(0.001);
  });

  it('stops training when it passes its wall-time budget, and registers no model', async () => {
    const base = flightsSpec();
    base.name = 'budget-time';
    base.trainer = { type: 'logistic_regression', l2: 0.0003, max_iterations: 40, tolerance: 1e-300, patience: 40 };
    base.budget = { max_training_time: '1s' };
    base.on_failure = { wait_for_operator: true };
    const spec = writeSpec('budget-time', base);
    const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `budget-time-${process.pid}-${++counter}` });
    const failure = await h.withWorker(() => failureOf(handle));
    expect(failure.type).toBe('SluiceBudgetExceeded');
    expect(failure.message).toMatch(/^budget\.max_training_time: training took \d+\.\d s by iteration \d+, over its budget of 1s; stopped, no model was registered$/);
    const activities = (await scheduledActivities(handle)).map((a) => a.type);
    expect(activities.filter((t) => t === 'train')).toHaveLength(1); // not retried, not waiting for an operator
    expect(activities).not.toContain('registerModelVersion');
  });

  it('gives each activity at most max_attempts attempts', async () => {
    const spec = smallFlightsSpec('budget-attempts', (s) => {
      s.budget = { max_attempts: 2 };
      s.on_failure = { wait_for_operator: false };
    });
    let attempts = 0;
    const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `budget-attempts-${process.pid}-${++counter}` });
    const failure = await h.withWorker(
      () => failureOf(handle),
      (activities) => ({
        ...activities,
        async buildFeatures() {
          attempts++;
          throw new Error(`transient fault ${attempts}`);
        },
      }),
    );
    expect(attempts).toBe(2);
    expect(failure.message).toBe('transient fault 2');
  });

  it('stops batch inference whose partition has more rows than its budget, before scoring, publishing nothing', async () => {
    const sink = path.join(sinks, 'budget-infer');
    const spec = smallFlightsSpec('budget-infer', (s) => {
      s.inference = { shard_rows: 20_000, slice_rows: 20_000, max_parallel_shards: 1, sink: { type: 'parquet', path: sink } };
      s.budget = { max_rows: 400_000 }; // training reads ~394k rows; a day to score is ~16k more in a run of its own
    });
    await h.withWorker(async () => {
      await h.client.workflow.execute(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `budget-infer-train-${process.pid}` });
      const small = await h.client.workflow.execute(batchInference, { args: [{ spec, partition: '2001-01-25' }], taskQueue: h.config.taskQueue, workflowId: `budget-infer-ok-${process.pid}` });
      expect(small.ledger?.rows).toBe(small.rows);
      const big = await h.client.workflow.start(batchInference, { args: [{ spec, from: '2001-02-01', to: '2001-03-31' }], taskQueue: h.config.taskQueue, workflowId: `budget-infer-big-${process.pid}` });
      const failure = await failureOf(big);
      expect(failure.message).toMatch(/^budget\.max_rows: the run reads \d+ rows, over its budget of 400000; stopped before score-shard-0$/);
      expect((await scheduledActivities(big)).map((a) => a.type)).not.toContain('scoreShard');
    });
    expect(fs.readdirSync(sink).sort()).toEqual(['day=2001-01-25']);
  });
});

describe('task queues per resource class', () => {
  it('runs the train step on the queue the spec names, polled by a worker of its own', async () => {
    const trainQueue = `${h.config.taskQueue}-train`;
    const spec = smallFlightsSpec('queues', (s) => (s.execution = { heartbeat_timeout: '1m', train_task_queue: trainQueue }));
    const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `queues-${process.pid}` });
    const { worker: trainWorker, connection } = await createSluiceWorker({ config: { ...h.config, taskQueue: trainQueue }, workflowBundle: { code: fs.readFileSync(process.env.SLUICE_TEST_BUNDLE as string, 'utf8') } });
    try {
      await trainWorker.runUntil(() => h.withWorker(() => handle.result()));
    } finally {
      await connection.close();
    }
    const scheduled = await scheduledActivities(handle);
    expect(scheduled.find((a) => a.type === 'train')?.queue).toBe(trainQueue);
    expect(scheduled.filter((a) => a.type !== 'train').every((a) => a.queue === h.config.taskQueue)).toBe(true);
  });
});
