import os from 'node:os';
import type { SliceMessage } from './slice-task';
import { spawnScoringThread } from './slice-pool';

/**
 * A worker process may run in a folder of its own (an operator's machine, a container's working directory): its
 * scoring threads must still load. This one gets a task it cannot score and must answer with a failure message —
 * an 'error' event instead means the thread's code did not load.
 */
test('a scoring thread loads whatever the working directory, and answers a bad task with a failure', async () => {
  const cwd = process.cwd();
  process.chdir(os.tmpdir());
  try {
    const thread = spawnScoringThread();
    const answer = await new Promise<SliceMessage | Error>((resolve) => {
      thread.once('message', resolve);
      thread.once('error', resolve);
      thread.postMessage({});
    });
    await thread.terminate();
    expect(answer).not.toBeInstanceOf(Error);
    expect(answer).toMatchObject({ kind: 'failed' });
  } finally {
    process.chdir(cwd);
  }
});
