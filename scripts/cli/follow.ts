import type { WorkflowHandle } from '@temporalio/client';
import type { Context } from './command';
import { progressLine, readRun } from './progress';

/** Waits for the run's result, showing its progress line every `intervalMs` until it closes. */
export async function follow<T>(context: Context, handle: WorkflowHandle, intervalMs = 500): Promise<T> {
  let last = '';
  const tick = async () => {
    const line = await readRun(handle).then(progressLine, () => undefined);
    if (line !== undefined && line !== last && !context.json) context.progress(line);
    last = line ?? last;
  };
  const timer = setInterval(() => void tick(), intervalMs);
  try {
    return (await handle.result()) as T;
  } finally {
    clearInterval(timer);
    await tick();
  }
}
