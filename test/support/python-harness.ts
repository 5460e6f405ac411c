import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kill, startPythonWorker } from './processes';
import { harness, TEST_ARTIFACTS, type TestHarness } from './temporal';

/** A test file's harness, a Python worker polling `<its task queue>-python`, and a scratch folder of its own. */
export interface PythonHarness {
  h: TestHarness;
  queue: string;
  work: string;
  python: ChildProcess;
  close(): Promise<void>;
}

export async function pythonHarness(name: string): Promise<PythonHarness> {
  const h = await harness(name);
  const queue = `${h.config.taskQueue}-python`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `sluice-${name}-`));
  const python = await startPythonWorker({ TEMPORAL_ADDRESS: h.config.address, SLUICE_PYTHON_TASK_QUEUE: queue, SLUICE_ARTIFACTS: TEST_ARTIFACTS });
  return {
    h,
    queue,
    work,
    python,
    close: async () => {
      await kill(python);
      await h.close();
    },
  };
}
