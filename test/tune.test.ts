import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { trainPipeline, type TrainProgress } from '../workflows/train-pipeline';
import { outcomeLine, type TrialRecord } from '../contracts/tuning';
import { sluiceIn } from './support/cli';
import { eventually } from './support/eventually';
import { trainingBeat } from './support/python-training';
import { kill, startPythonWorker } from './support/processes';
import { recordHistory } from './support/record-history';
import { smallFlightsSpec, type SpecInput } from './support/specs';
import { harness, TEST_ARTIFACTS, type TestHarness } from './support/temporal';

/**
 * `tune:` with real processes: a search on the Python worker (two trials at once), its trials reused when `trials`
 * is raised, the budget stopping it, and a worker SIGKILLed mid-trial whose trial resumes from its checkpoint.
 */
let h: TestHarness;
let python: ChildProcess;
let queue: string;

const startWorker = () => startPythonWorker({ TEMPORAL_ADDRESS: h.config.address, SLUICE_PYTHON_TASK_QUEUE: queue, SLUICE_ARTIFACTS: TEST_ARTIFACTS, SLUICE_PYTHON_SLOTS: '2' });

/** Each activity of a run by type, with the attempt that ended it (the history records the last attempt's start). */
async function attemptsOf(handle: WorkflowHandle): Promise<Array<[string, number]>> {
  const events = (await handle.fetchHistory()).events ?? [];
  const types = new Map(events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes?.activityType?.name ?? '']));
  return events.flatMap((e) => {
    const started = e.activityTaskStartedEventAttributes;
    return started ? [[types.get(String(started.scheduledEventId)) ?? '', started.attempt ?? 1] as [string, number]] : [];
  });
}

/** The three-week flights spec with LightGBM and a small search over its learning rate and leaves. */
function spec(name: string, tune: NonNullable<SpecInput['tune']>, change: (s: SpecInput) => void = () => undefined): string {
  return smallFlightsSpec(name, (s) => {
    s.trainer = { type: 'lightgbm', trees: 60, early_stopping_rounds: 20, seed: 5, threads: 1 };
    s.tune = { seed: 3, space: { learning_rate: { float: [0.05, 0.3], log: true }, leaves: { int: [7, 63], log: true } }, ...tune };
    s.execution = { python_task_queue: queue, heartbeat_timeout: '5s' };
    change(s);
  });
}

const sluice = (...argv: string[]) => sluiceIn(h, argv);

const train = (file: string, id: string) => h.client.workflow.start(trainPipeline, { args: [{ spec: file }], taskQueue: h.config.taskQueue, workflowId: `${id}-${process.pid}` });

beforeAll(async () => {
  h = await harness('tune');
  queue = `${h.config.taskQueue}-python`;
  python = await startWorker();
});
afterAll(async () => {
  if (python) await kill(python);
  await h?.close();
});

function best(trials: TrialRecord[]): TrialRecord {
  return trials.reduce((a, b) => ((b.value ?? -1) > (a.value ?? -1) ? b : a));
}

describe('tune: a durable hyper-parameter search', () => {
  it('runs trials two at a time, trains the best configuration, and reuses every finished trial when trials is raised', async () => {
    const file = spec('tune-search', { trials: 4, parallel: 2 });
    let details = '';
    const { first, raised } = await h.withWorker(async () => {
      const handle = await train(file, 'tune-search');
      const first = await handle.result();
      recordHistory(handle, 'tuned');
      details = (await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata')).currentDetails ?? '';
      const raised = await (await train(spec('tune-search', { trials: 5, parallel: 1 }), 'tune-search-raised')).result();
      return { first, raised };
    });
    const tuning = first.tuning!;
    for (const t of tuning.trials) console.log(`trial ${t.number}: ${JSON.stringify(t.params)} ${t.state} ${t.value ?? t.reason} (${t.cost.cpuSeconds.toFixed(2)} CPU s${t.reused ? ', reused' : ''})`);
    expect(tuning.trials.map((t) => t.number)).toEqual([1, 2, 3, 4]);
    expect(tuning.trials.every((t) => t.state === 'complete' && t.value! > 0.55 && t.value! < 1)).toBe(true);
    // Four different configurations, each inside its range.
    expect(new Set(tuning.trials.map((t) => JSON.stringify(t.params))).size).toBe(4);
    for (const t of tuning.trials) {
      expect(t.params.learning_rate).toBeGreaterThanOrEqual(0.05);
      expect(t.params.learning_rate).toBeLessThanOrEqual(0.3);
      expect(Number.isInteger(t.params.leaves)).toBe(true);
    }
    expect(tuning.best!.number).toBe(best(tuning.trials).number);
    expect(tuning.stopReason).toBe('4 of 4 trials ran');
    // The Web UI's run details list every trial, how it ended, and which led.
    expect(details).toContain('**Search** 4 of 4 trials done; 4 of 4 trials ran');
    expect(details).toMatch(/^- trial 1 of 4: learning_rate 0\.\d+, leaves \d+ → holdout AUC 0\.\d{4} \(best so far\)$/m);
    expect(details).toContain(`→ ${outcomeLine('auc', tuning.best!)}`);
    // The train step trained the best configuration, and every trial is on the ledger.
    const steps = Object.fromEntries(first.steps.map((s) => [s.name, s]));
    expect(steps.tune.detail).toContain(`best holdout AUC ${tuning.best!.value!.toFixed(4)} (trial ${tuning.best!.number}`);
    expect(first.ledger!.entries.filter((e) => e.step.startsWith('trial ')).map((e) => e.step).sort()).toEqual(['trial 1', 'trial 2', 'trial 3', 'trial 4']);
    expect(first.promoted).toBe(true);
    // The refit started from the best trial's rounds: nothing was searched again.
    expect(steps.train.detail).toMatch(new RegExp(`refit ${tuning.best!.bestIteration} \\(the search's best trial's rounds\\) on the whole window in [\\d.]+ s`));
    // The report has the trials table and the two search charts.
    const report = first.report as { file: string };
    const page = fs.readFileSync(report.file, 'utf8');
    expect(page).toContain('<h2>Hyper-parameter search</h2>');
    expect(page).toContain('4 of 4 trials ran');
    expect(page).toContain(`${tuning.best!.number} (best)`);
    for (const chart of ['trials', 'params']) expect(fs.readFileSync(path.join(path.dirname(report.file), `${chart}.svg`), 'utf8')).toMatch(/^<svg/);
    // Raising `trials` continues the same study: configurations asked before are reused, not trained again.
    const again = raised.tuning!.trials;
    expect(again).toHaveLength(5);
    const before = new Set(tuning.trials.map((t) => JSON.stringify(t.params)));
    const reused = again.filter((t) => before.has(JSON.stringify(t.params)));
    expect(reused.length).toBeGreaterThanOrEqual(1);
    expect(reused.every((t) => t.reused)).toBe(true);
    if (before.has(JSON.stringify(raised.tuning!.best!.params)) || reused.some((t) => JSON.stringify(t.params) === JSON.stringify(tuning.best!.params))) {
      expect(raised.tuning!.best!.value).toBeGreaterThanOrEqual(tuning.best!.value!);
    }
  });

  it('starts no trial the budget cannot pay for, and says so (with median pruning on: the trials read the finished ones\' curves)', async () => {
    // What extract and features cost, and what one trial costs, from a one-trial run; then a budget for a few more.
    // Seeds of this process, so no trial is one an earlier test run left in the artifact store (it would cost nothing).
    const seed = 1000 + (process.pid % 100_000);
    const probe = await h.withWorker(async () => (await train(spec('tune-budget-probe', { trials: 1, parallel: 1, sampler: 'random', seed }), 'tune-budget-probe')).result());
    const trial = probe.tuning!.trials[0].cost.cpuSeconds;
    console.log(`one trial ${trial.toFixed(2)} CPU s, ${JSON.stringify(probe.ledger!.entries.map((e) => [e.step, e.cost.cpuSeconds]))}`);
    const before = probe.ledger!.entries.filter((e) => ['extract', 'features'].includes(e.step)).reduce((s, e) => s + e.cost.cpuSeconds, 0);
    const budget = before + 8 * trial;
    const result = await h.withWorker(async () =>
      (await train(spec('tune-budget', { trials: 30, parallel: 1, sampler: 'random', seed: seed + 1, pruning: 'median' }, (s) => (s.budget = { max_cpu_seconds: Math.ceil(budget) })), 'tune-budget')).result(),
    );
    const tuning = result.tuning!;
    expect(tuning.trials.length).toBeGreaterThanOrEqual(1);
    expect(tuning.trials.length).toBeLessThan(30);
    expect(tuning.stopReason).toMatch(new RegExp(`^${tuning.trials.length} of 30 trials ran: budget.max_cpu_seconds: [\\d.]+ CPU seconds used of ${Math.ceil(budget)}; another trial`));
    // It kept enough budget for the final fit and what follows: every step started within it (the budget is checked
    // before each step, so only the report, the last, may end past it), and the model was registered.
    const report = result.ledger!.entries.find((e) => e.step === 'report')?.cost.cpuSeconds ?? NaN;
    expect(result.totalCost.cpuSeconds - report).toBeLessThanOrEqual(Math.ceil(budget));
    expect(result.modelVersion).toBeGreaterThan(0);
    expect(result.ledger!.budgetLines[0]).toMatch(/^cpu seconds /);
    // Training time on the ledger counts the trials too.
    const withTime = await h.withWorker(async () => (await train(spec('tune-budget-time', { trials: 2, parallel: 1, sampler: 'random', seed: seed + 500 }, (s) => (s.budget = { max_training_time: '1h' })), 'tune-budget-time')).result());
    const line = withTime.ledger!.budgetLines.find((l) => l.startsWith('training seconds '));
    const counted = withTime.ledger!.entries.filter((e) => e.step === 'train' || e.step.startsWith('trial ')).reduce((s, e) => s + e.cost.wallSeconds, 0);
    expect(line).toBe(`training seconds ${counted.toFixed(2)} of 3600 (${((100 * counted) / 3600).toFixed(1)}%)`);
    expect(counted).toBeGreaterThan(withTime.ledger!.entries.find((e) => e.step === 'train')!.cost.wallSeconds);

  });

  it('`sluice tune stop` ends the search after the running trial; `sluice status` shows the trials, and the run trains the best', async () => {
    const file = spec('tune-stopped', { trials: 20, parallel: 1, sampler: 'random', seed: 2000 + (process.pid % 100_000) });
    const { result, status, stopped, refused } = await h.withWorker(async () => {
      const handle = await train(file, 'tune-stopped');
      await eventually(() => handle.query<TrainProgress>('progress'), (p) => (p.tuning?.trials.length ?? 0) >= 2, 'two finished trials');
      const status = await sluice('status', handle.workflowId);
      const stopped = await sluice('tune', 'stop', handle.workflowId);
      const result = await handle.result();
      const refused = await sluice('tune', 'stop', handle.workflowId);
      return { result, status, stopped, refused };
    });
    expect(status.code).toBe(0);
    expect(status.output).toMatch(/step \d\/9 tune: [2-9] of 20 trials done, 1 running, best holdout AUC 0\.\d{4} \(trial \d\); [\d.]+ CPU s/);
    expect(status.output).toMatch(/^ +1\*? +holdout AUC 0\.\d{4} +learning_rate 0\.\d+, leaves \d+ +[\d.]+$/m);
    expect(stopped.code).toBe(0);
    expect(stopped.output).toMatch(/the search starts no further trial; it goes on with the best of \d+ finished trials once the 1 running ones end/);
    const tuning = result.tuning!;
    expect(tuning.trials.length).toBeLessThan(20);
    expect(tuning.stopReason).toMatch(new RegExp(`^${tuning.trials.length} of 20 trials ran: stopped by \\S+`));
    expect(result.promoted).toBe(true);
    // The run has ended: a second stop is refused, saying why.
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/refused the stop: the run has ended, and its search with it$/);
  });

  it('goes on through a SIGKILL of the Python worker mid-trial: the trial resumes from its checkpoint', async () => {
    const file = spec('tune-killed', { trials: 2, parallel: 1, sampler: 'random' }, (s) => {
      s.trainer = { type: 'lightgbm', trees: 400, early_stopping_rounds: 400, seed: 5, threads: 1 };
      s.tune = { ...s.tune, seed: 1000 + (process.pid % 100_000), space: { learning_rate: { float: [0.01, 0.02] }, leaves: { int: [31, 63] } } };
    });
    const result = await h.withWorker(async () => {
      const handle = await train(file, 'tune-killed');
      const beat = await eventually(() => trainingBeat(handle, 'tuneTrial'), (b) => (b?.checkpoint ?? 0) >= 20, 'a trial past its second checkpoint');
      await kill(python);
      python = await startWorker();
      return { ...(await handle.result()), kept: beat?.checkpoint ?? 0, attempts: await attemptsOf(handle) };
    });
    // Only the killed trial took a second attempt: the steps after it (evaluation's importance scoring among them) heartbeat within the 5 s timeout.
    expect(result.attempts.filter(([, attempt]) => attempt > 1).map(([type]) => type)).toEqual(['tuneTrial']);
    const trials = result.tuning!.trials;
    expect(trials.map((t) => t.state)).toEqual(['complete', 'complete']);
    expect(trials[0].resumedFrom).toBeGreaterThanOrEqual(result.kept); // the checkpoint the killed attempt had heartbeaten, or a newer one
    expect(result.kept).toBeGreaterThanOrEqual(20);
    expect(trials[0].iterations).toBe(400);
    expect(result.promoted).toBe(true);
  });
});
