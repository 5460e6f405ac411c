import fs from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { BRANCH_HISTORIES } from './support/record-history';

/**
 * Determinism guard: recorded histories of every workflow type are replayed against the current
 * workflow code. A change that would break runs already in flight fails here. Re-record only after
 * a deliberate, patched change (README: "Changing workflow code safely").
 */
const HISTORIES = path.resolve(__dirname, 'histories');

describe('replay of recorded histories', () => {
  beforeAll(() => {
    try {
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      // already installed by another suite in this process
    }
  });

  // Workflow ids matter in replay (child workflow ids derive from them): each history's recorded id.
  const ids = JSON.parse(fs.readFileSync(path.join(HISTORIES, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
  const files = fs.readdirSync(HISTORIES).filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json');

  it('has a history for every workflow type', () => {
    const types = files.map((f) => {
      const history = JSON.parse(fs.readFileSync(path.join(HISTORIES, f), 'utf8'));
      return history.events[0].workflowExecutionStartedEventAttributes.workflowType.name as string;
    });
    expect(new Set(types)).toEqual(new Set(['trainPipeline', 'modelRegistry', 'batchInference', 'backfill', 'rollbackModel']));
  });

  it.each(files)('%s replays without nondeterminism', async (file) => {
    const history = JSON.parse(fs.readFileSync(path.join(HISTORIES, file), 'utf8'));
    const code = fs.readFileSync(process.env.SLUICE_TEST_BUNDLE as string, 'utf8');
    expect(ids[file]).toBeDefined();
    await expect(Worker.runReplayHistory({ workflowBundle: { code } }, history, ids[file])).resolves.toBeUndefined();
  });

  // The failure branches, recorded from the tests that drive them (SLUICE_RECORD_HISTORIES=1 npm test).
  const branches = fs.existsSync(BRANCH_HISTORIES) ? fs.readdirSync(BRANCH_HISTORIES).filter((f) => f.endsWith('.json')) : [];

  it('has a recorded history for every failure branch', () => {
    expect(branches.map((f) => f.replace(/\.json$/, '')).sort()).toEqual([...BRANCHES].sort());
  });

  it.each(branches)('branch %s replays without nondeterminism', async (file) => {
    const { workflowId, history } = JSON.parse(fs.readFileSync(path.join(BRANCH_HISTORIES, file), 'utf8')) as { workflowId: string; history: unknown };
    const code = fs.readFileSync(process.env.SLUICE_TEST_BUNDLE as string, 'utf8');
    await expect(Worker.runReplayHistory({ workflowBundle: { code } }, history, workflowId)).resolves.toBeUndefined();
  });
});

/** Every branch a recorded history must cover. */
const BRANCHES = [
  'tuned',
  'operator-retry-spec-fix',
  'operator-skip',
  'operator-abort',
  'operator-wait-timeout',
  'approval-approved',
  'approval-rejected',
  'approval-timeout',
  'over-budget',
  'cancelled-training',
  'cancelled-scoring',
  'stale-approval',
  'data-parallel-train',
  'fit-logistic-continued',
  'data-parallel-linear',
  'fit-linear',
  'python-trainer',
  'register-external',
  'hash-split-inference',
  'backfill-hash-refused',
  'iceberg-inference',
  'sink-history',
  'checks-training-warned',
  'checks-training-failed',
  'checks-inference-warned',
  'checks-inference-refused-skipped',
];
