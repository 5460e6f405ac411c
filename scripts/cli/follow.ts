import type { WorkflowHandle } from '@temporalio/client';
import type { Context } from './command';
import { progressText } from './progress-bar';
import { progressView, readRun } from './progress';

/** Waits for the run's result, showing its progress line every `intervalMs` until it closes. */
export async function follow<T>(context: Context, handle: WorkflowHandle, intervalMs = 500): Promise<T> {
  let last = '';
  const tick = async () => {
    const view = await readRun(handle).then(progressView, () => undefined);
    const line = view && progressText(view);
    if (view && line !== last && !context.json) context.progress(view);
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
