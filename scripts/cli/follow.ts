import type { WorkflowHandle } from '@temporalio/client';
import type { AwaitingStep } from '../../workflows/operator';
import type { Context } from './command';
import { progressText } from './progress-bar';
import { progressView, readRun, type RunState } from './progress';

/** How a followed run stopped being followed: it closed with a result, or a step of it waits for an operator. */
export type Followed<T> = { result: T } | { waiting: AwaitingStep[] };

/** The steps of a run that wait for an operator, as its progress query says. */
export function awaitingOperator(state: RunState | undefined): AwaitingStep[] {
  return (state?.progress as { awaitingOperator?: AwaitingStep[] } | undefined)?.awaitingOperator ?? [];
}

/**
 * Waits for the run's result, showing its progress line every `intervalMs` until it closes. With
 * `untilWaiting`, it stops as soon as a step of the run waits for an operator (the run goes on waiting).
 */
export async function follow<T>(context: Context, handle: WorkflowHandle, options: { intervalMs?: number; untilWaiting?: boolean } = {}): Promise<Followed<T>> {
  let last = '';
  let onWaiting: (waiting: AwaitingStep[]) => void = () => undefined;
  const waitingSeen = new Promise<Followed<T>>((resolve) => (onWaiting = (waiting) => resolve({ waiting })));
  const tick = async () => {
    const state = await readRun(handle).catch(() => undefined);
    const view = state && progressView(state);
    const line = view && progressText(view);
    if (view && line !== last && !context.json) context.progress(view);
    last = line ?? last;
    const waiting = awaitingOperator(state);
    if (options.untilWaiting && state?.status === 'RUNNING' && waiting.length > 0) onWaiting(waiting);
  };
  // The tick in flight, awaited before returning: no call of this command outlives it.
  let ticking: Promise<void> = Promise.resolve();
  const timer = setInterval(() => void (ticking = ticking.then(tick)), options.intervalMs ?? 500);
  // The result's long poll is cancelled when the run is left waiting, so no call outlives the command (a poll
  // retried after the connection closed would otherwise crash the process).
  const stop = new AbortController();
  const result = context.client.withAbortSignal(stop.signal, () => handle.result()).then((value: T) => ({ result: value }));
  try {
    return await Promise.race([result, waitingSeen]);
  } finally {
    clearInterval(timer);
    stop.abort();
    result.catch(() => undefined);
    await ticking;
    await tick();
  }
}
