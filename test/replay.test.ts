import fs from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';

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
});
