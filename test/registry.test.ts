import { Context } from '@temporalio/activity';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { queryRegistry, registerVersion, setAlias } from '../activities/registry/registry';
import { registryQueueOf } from '../workers/config';
import { registryWorkflowId, type NewModelVersion } from '../contracts/registry';
import { approveUpdate, progressQuery, trainPipeline } from '../workflows/train-pipeline';
import { eventually } from './support/eventually';
import { smallFlightsSpec } from './support/specs';
import { harness, type TestHarness } from './support/temporal';
import { recordHistory } from './support/record-history';

/** The registry under concurrency and retries: every decision lands exactly once, and a stale one not at all. */
let h: TestHarness;

beforeAll(async () => {
  h = await harness('registry');
});
afterAll(async () => {
  await h?.close();
});

function entry(n: number): NewModelVersion {
  return {
    trainingWorkflowId: `fake-${n}`,
    trainingRunId: `fake-${n}`,
    specHash: '',
    dataFingerprints: { extract: '', features: '' },
    artifactUri: `artifact:models/fake-${n}/model.onnx`,
    modelFingerprint: `fingerprint-${n}`,
    featureNames: ['x'],
    trainingWindow: 'test',
  };
}

describe('an exactly-once, race-free registry', () => {
  it('50 concurrent promotions and rollbacks, some sent twice: one audit entry per decision, and the champion is the last committed', async () => {
    const model = `reg-race-${process.pid}`;
    const state = await h.withWorker(async () => {
      for (let n = 1; n <= 5; n++) await registerVersion(h.client, registryQueueOf(h.config), model, entry(n));
      const decisions = Array.from({ length: 50 }, (_, i) => ({ id: `decision-${i}`, request: { alias: 'champion' as const, version: (i % 5) + 1, actor: 'test', reason: `${i % 2 ? 'rollback' : 'promotion'} ${i}` } }));
      // Every tenth decision is sent twice with the same id, as a retried activity would.
      const sends = [...decisions, ...decisions.filter((_, i) => i % 10 === 0)].map((d) => setAlias(h.client, model, d.request, d.id));
      await Promise.all(sends);
      return queryRegistry(h.client, model);
    });
    const ours = (state?.audit ?? []).filter((a) => /^(promotion|rollback) \d+$/.test(a.reason));
    expect(ours).toHaveLength(50);
    expect(new Set(ours.map((a) => a.reason)).size).toBe(50);
    expect(state?.aliases.champion).toBe(ours[ours.length - 1].version);
    // Each change records the champion it replaced: the audit is one unbroken chain.
    for (let i = 1; i < ours.length; i++) expect(ours[i].previous).toBe(ours[i - 1].version);
  });

  it('compare-and-set: of two decisions made against the same champion, one lands and the other is refused as stale', async () => {
    const model = `reg-cas-${process.pid}`;
    const outcomes = await h.withWorker(async () => {
      for (let n = 1; n <= 3; n++) await registerVersion(h.client, registryQueueOf(h.config), model, entry(n));
      await setAlias(h.client, model, { alias: 'champion', version: 1, actor: 'test', reason: 'first' });
      return Promise.allSettled([2, 3].map((version) => setAlias(h.client, model, { alias: 'champion', version, actor: 'test', reason: `to v${version}`, expected: 1 })));
    });
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refused.reason as WorkflowUpdateFailedError).cause?.message).toMatch(/^SluiceStaleDecision: the champion of reg-cas-\d+ is v[23] now, not v1 as when this decision was made; compare against v[23] and decide again$/);
  });

  it('a promotion whose activity is retried after it reached the registry is audited once', async () => {
    const spec = smallFlightsSpec('reg-retry');
    const result = await h.withWorker(
      () => h.client.workflow.execute(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `reg-retry-${process.pid}` }),
      (activities) => ({
        ...activities,
        async setModelAlias(input) {
          const change = await activities.setModelAlias(input);
          if (Context.current().info.attempt === 1) throw new Error('injected: the worker died before reporting the promotion');
          return change;
        },
      }),
    );
    expect(result.promoted).toBe(true);
    const state = await h.withWorker(() => queryRegistry(h.client, 'reg-retry'));
    expect(state?.audit.filter((a) => a.actor === `workflow:reg-retry-${process.pid}`)).toHaveLength(1);
    const registry = await h.client.workflow.getHandle(registryWorkflowId('reg-retry')).describe();
    expect(registry.taskQueue).toBe(registryQueueOf(h.config)); // a fixed queue, not the run's
  });

  it('two runs racing: an approval that arrives after another run changed the champion is refused as stale', async () => {
    const manual = smallFlightsSpec('reg-stale', (s) => void (s.promotion = { mode: 'manual', approval_timeout: '10m' }));
    const auto = smallFlightsSpec('reg-stale', (s) => void (s.trainer = { type: 'logistic_regression', l2: 0.0003, max_iterations: 30, tolerance: 1e-7, patience: 2 }));
    const result = await h.withWorker(async () => {
      const waiting = await h.client.workflow.start(trainPipeline, { args: [{ spec: manual }], taskQueue: h.config.taskQueue, workflowId: `reg-stale-a-${process.pid}` });
      await eventually(() => waiting.query(progressQuery), (p) => p.awaiting !== undefined, 'run A to await approval');
      const other = await h.client.workflow.execute(trainPipeline, { args: [{ spec: auto }], taskQueue: h.config.taskQueue, workflowId: `reg-stale-b-${process.pid}` });
      expect(other.promoted).toBe(true);
      expect(await waiting.executeUpdate(approveUpdate, { args: [{ actor: 'grace', reason: 'looks good' }] })).toBe('approved by grace');
      const answered = await waiting.result();
      recordHistory(waiting, 'stale-approval');
      return answered;
    });
    expect(result.promoted).toBe(false);
    expect(result.decision.outcome).toMatch(/^not promoted: the approval by grace is stale \(reg-stale: the champion of reg-stale is v2 now, not none as when this decision was made; compare against v2 and decide again\)$/);
    const state = await h.withWorker(() => queryRegistry(h.client, 'reg-stale'));
    expect(state?.aliases.champion).toBe(2);
  });
});
