import fs from 'node:fs';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { trainers } from '../activities/train/trainers';
import { queryRegistry } from '../activities/registry/registry';
import { approveSignal, progressQuery, rejectSignal, trainPipeline, type TrainPipelineResult } from '../workflows/train-pipeline';
import { SluiceModelVersion, SluicePipeline, SluiceStatus } from '../contracts/search-attributes';
import { smallFlightsSpec, writeSpec } from './support/specs';
import { eventually } from './support/eventually';
import { harness, type TestHarness } from './support/temporal';
import { recordHistory } from './support/record-history';
import { binaryMetrics } from '../contracts/metric-values';

let h: TestHarness;
let counter = 0;

beforeAll(async () => {
  h = await harness('train');
});
afterAll(async () => {
  await h?.close();
});

function start(spec: string) {
  return h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `train-test-${process.pid}-${++counter}` });
}

function statusOf(result: TrainPipelineResult, step: string): string | undefined {
  return result.steps.find((s) => s.name === step)?.status;
}

describe('trainPipeline on a real dev server with real flights data', () => {
  it('trains, registers and promotes; a second run reuses the data steps and is compared with the champion', async () => {
    const spec = smallFlightsSpec('wf-auto');
    const [first, registry] = await h.withWorker(async () => [await (await start(spec)).result(), await queryRegistry(h.client, 'wf-auto')] as const);
    expect(first.pipeline).toBe('wf-auto');
    expect(first.modelVersion).toBe(1);
    expect(first.metrics.rows).toBeGreaterThan(40_000);
    expect(binaryMetrics(first.metrics).auc).toBeGreaterThan(0.6);
    expect(binaryMetrics(first.metrics).auc).toBeLessThan(0.9);
    expect(first.promoted).toBe(true);
    expect(first.decision.reasons).toContain('pass: no champion yet');
    expect(first.modelUri).toMatch(/^artifact:models\/[0-9a-f]{32}\/model\.onnx$/);
    expect(first.totalCost.cpuSeconds).toBeGreaterThan(0);

    expect(registry?.aliases).toEqual({ champion: 1 });
    expect(registry?.versions[0]).toMatchObject({ version: 1, artifactUri: first.modelUri, specHash: first.specHash, trainingWindow: '2001-01-01..2001-01-21' });
    expect(registry?.audit[0]).toMatchObject({ alias: 'champion', version: 1, previous: null });

    // Same data, another trainer setting: extract and features are reused, the model is new and is
    // compared with the champion on the same validation rows.
    const spec2 = smallFlightsSpec('wf-auto', (s) => {
      if (s.trainer.type === 'logistic_regression') s.trainer.l2 = 0.01;
    });
    const handle = await start(spec2);
    const second = await h.withWorker(() => handle.result());
    expect(statusOf(second, 'extract')).toBe('reused');
    expect(statusOf(second, 'features')).toBe('reused');
    expect(statusOf(second, 'train')).toBe('done');
    expect(statusOf(second, 'evaluate-champion')).toBe('done');
    expect(second.modelVersion).toBe(2);
    expect(second.champion?.version).toBe(1);
    expect(binaryMetrics(second.champion?.metrics).auc).toBeCloseTo(binaryMetrics(first.metrics).auc, 6);

    const described = await handle.describe();
    expect(described.memo?.summary).toMatch(/^wf-auto v2: AUC 0\.\d{4}, log loss 0\.\d{4}, (promoted|not promoted); \d+\.\d s CPU$/);
    expect(described.typedSearchAttributes.get(SluicePipeline)).toBe('wf-auto');
    expect(described.typedSearchAttributes.get(SluiceModelVersion)).toBe(2);
    expect(described.typedSearchAttributes.get(SluiceStatus)).toBe(second.promoted ? 'promoted' : 'not-promoted');
  });

  it('reuses extract and features of an earlier run with the same inputs; a changed feature SQL recomputes features and everything after', async () => {
    const base = smallFlightsSpec('wf-reuse');
    const changed = smallFlightsSpec('wf-reuse', (s) => (s.features.sql = s.features.sql.replace('ln(s.distance)', 'ln(1 + s.distance)')));
    const [first, same, edited] = await h.withWorker(async () => [
      await (await start(base)).result(),
      await (await start(base)).result(),
      await (await start(changed)).result(),
    ]);
    expect(['extract', 'features', 'train'].map((s) => statusOf(same, s))).toEqual(['reused', 'reused', 'reused']);
    expect(same.modelVersion).toBe(first.modelVersion);
    expect(['extract', 'features', 'train', 'evaluate'].map((s) => statusOf(edited, s))).toEqual(['reused', 'done', 'done', 'done']);
    expect(edited.modelUri).not.toBe(first.modelUri);
    expect(edited.modelVersion).toBe(first.modelVersion + 1);
  });

  it('retries an activity that fails twice, then succeeds, without re-running earlier steps', async () => {
    const spec = smallFlightsSpec('wf-retry');
    const handle = await start(spec);
    const result = await h.withWorker(
      () => handle.result(),
      (activities) => ({
        ...activities,
        async evaluate(input) {
          if (Context.current().info.attempt <= 2) throw new Error(`injected transient fault, attempt ${Context.current().info.attempt}`);
          return activities.evaluate(input);
        },
      }),
    );
    expect(binaryMetrics(result.metrics).auc).toBeGreaterThan(0.6);
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'evaluate');
    expect(scheduled).toHaveLength(1);
    const started = events.filter((e) => e.activityTaskStartedEventAttributes && e.activityTaskStartedEventAttributes.scheduledEventId?.toString() === scheduled[0].eventId?.toString());
    expect(started[0].activityTaskStartedEventAttributes?.attempt).toBe(3);
    // The two failed attempts cost too: the step's ledger entry counts all three.
    expect(result.ledger?.entries.find((e) => e.step === 'evaluate')?.cost.attempts).toBe(3);
    expect(started[0].activityTaskStartedEventAttributes?.lastFailure?.message).toBe('injected transient fault, attempt 2');
    const extracts = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'extract');
    expect(extracts).toHaveLength(1);
  });

  it('waits visibly for manual approval, promotes on approve and keeps the champion on reject', async () => {
    const manual = (l2: number) =>
      smallFlightsSpec('wf-manual', (s) => {
        s.promotion = { mode: 'manual', approval_timeout: '10m' };
        if (s.trainer.type === 'logistic_regression') s.trainer.l2 = l2;
      });
    const registry = await h.withWorker(async () => {
      const handle = await start(manual(0.0001));
      const waiting = await eventually(() => handle.query(progressQuery), (p) => p.awaiting !== undefined, 'the approval wait');
      expect(waiting.awaiting).toContain('approval of wf-manual v1');
      const described = await eventually(() => handle.describe(), (d) => d.typedSearchAttributes.get(SluiceStatus) === 'awaiting-approval', 'the search attribute');
      expect(described.status.name).toBe('RUNNING');
      expect((await queryRegistry(h.client, 'wf-manual'))?.aliases).toEqual({ challenger: 1 });
      await handle.signal(approveSignal, { actor: 'alice', reason: 'reviewed the calibration' });
      const approved = await handle.result();
      recordHistory(handle, 'approval-approved');
      expect(approved.promoted).toBe(true);
      expect(approved.decision.outcome).toBe('promoted to champion, approved by alice');

      const second = await start(manual(0.05));
      await eventually(() => second.query(progressQuery), (p) => p.awaiting !== undefined, 'the second approval wait');
      await second.signal(rejectSignal, { actor: 'bob', reason: 'worse recall' });
      const rejected = await second.result();
      recordHistory(second, 'approval-rejected');
      expect(rejected.promoted).toBe(false);
      expect(rejected.decision.outcome).toBe('not promoted: rejected by bob (worse recall)');
      return queryRegistry(h.client, 'wf-manual');
    });
    expect(registry?.aliases).toEqual({ champion: 1, challenger: 2 });
    expect(registry?.audit.map((a) => `${a.alias}=${a.version} by ${a.actor}`)).toEqual(
      expect.arrayContaining(['champion=1 by alice', expect.stringMatching(/^challenger=2 by workflow:/)]),
    );
  });

  it('gives up waiting for approval after the spec’s timeout and leaves the candidate as challenger', async () => {
    const spec = smallFlightsSpec('wf-timeout', (s) => (s.promotion = { mode: 'manual', approval_timeout: '2s' }));
    const handle = await start(spec);
    const [result, registry] = await h.withWorker(async () => [await handle.result(), await queryRegistry(h.client, 'wf-timeout')] as const);
    recordHistory(handle, 'approval-timeout');
    expect(result.promoted).toBe(false);
    expect(result.decision.outcome).toBe('not promoted: no decision within 2s; v1 stays challenger');
    expect(registry?.aliases).toEqual({ challenger: 1 });
  });

  it('does not promote a model that fails a gate, and says which', async () => {
    const spec = smallFlightsSpec('wf-gate', (s) => (s.gates = { min_auc: 0.99, beat_baseline: false }));
    const [result, registry] = await h.withWorker(async () => [await (await start(spec)).result(), await queryRegistry(h.client, 'wf-gate')] as const);
    expect(result.promoted).toBe(false);
    expect(result.decision.reasons.find((r) => r.startsWith('FAIL'))).toMatch(/^FAIL: AUC 0\.\d{4} < gate 0\.99$/);
    expect(registry?.aliases).toEqual({});
    expect(registry?.versions).toHaveLength(1);
  });

  it.each([
    ['an unknown trainer', 'trainer:\n  type: catboost', `trainer.type: expected one of ${trainers().map((t) => JSON.stringify(t.type)).join(', ')}, got "catboost"`],
    ['a missing spec file', null, 'cannot read the pipeline spec (ENOENT)'],
  ])('rejects %s at once with the precise message', async (_, replacement, message) => {
    const spec =
      replacement === null
        ? 'pipelines/does-not-exist.yaml'
        : writeSpec('wf-bad', fs.readFileSync(smallFlightsSpec('wf-bad'), 'utf8').replace(/trainer:\n {2}type: logistic_regression/, replacement));
    const handle = await start(spec);
    const err = await h.withWorker(() => handle.result().then(() => undefined, (e: unknown) => e));
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause?.cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('SluiceSpecError');
    expect((cause as ApplicationFailure).message).toContain(message);
    const history = await handle.fetchHistory();
    const attempts = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes?.attempt);
    expect(attempts).toEqual([1]);
  });
});
