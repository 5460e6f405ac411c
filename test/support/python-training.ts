import type { ChildProcess } from 'node:child_process';
import type { WorkflowHandle } from '@temporalio/client';
import type { TrainPipelineResult } from '../../workflows/train-pipeline';
import { eventually } from './eventually';
import { kill } from './processes';
import type { TestHarness } from './temporal';

/** A Python train step's heartbeat: the rounds done, and the rounds of its newest checkpoint. */
export interface TrainingBeat {
  iteration: number;
  checkpoint?: number;
}

/** The last heartbeat of the run's pending Python train step (`trainPython`, or a tuning trial: `tuneTrial`), as the server keeps it. */
export async function trainingBeat(handle: WorkflowHandle, activity: 'trainPython' | 'tuneTrial' = 'trainPython'): Promise<TrainingBeat | undefined> {
  const pending = ((await handle.describe()).raw.pendingActivities ?? []).find((a) => a.activityType?.name === activity);
  const data = pending?.heartbeatDetails?.payloads?.[0]?.data;
  return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as TrainingBeat) : undefined;
}

/** Waits until the run's Python train step has heartbeaten a checkpoint (every boosting trainer writes its first at round 10). */
function checkpointed(handle: WorkflowHandle, what: string): Promise<TrainingBeat | undefined> {
  return eventually(() => trainingBeat(handle), (b) => (b?.checkpoint ?? 0) >= 10, what);
}

/**
 * The durability protocol of a Python trainer, with real processes: `start('uninterrupted')` trains to the end;
 * `start('killed')` trains until its step has heartbeaten a checkpoint, then `worker` (the Python worker it runs on) is
 * SIGKILLed and `restart` starts another, on which the retried attempt continues.
 */
export async function trainThroughKill(
  h: TestHarness,
  start: (run: 'uninterrupted' | 'killed') => Promise<WorkflowHandle>,
  worker: ChildProcess,
  restart: () => Promise<unknown>,
): Promise<{ uninterrupted: TrainPipelineResult; resumed: TrainPipelineResult; beat?: TrainingBeat }> {
  return h.withWorker(async () => {
    const began = Date.now();
    const phases: string[] = [];
    const phase = (what: string) => phases.push(`${what} ${((Date.now() - began) / 1000).toFixed(1)} s`);
    const uninterrupted = (await (await start('uninterrupted')).result()) as TrainPipelineResult;
    phase('uninterrupted run');
    const handle = await start('killed');
    const beat = await checkpointed(handle, 'a checkpoint of the Python trainer');
    phase(`checkpoint of round ${beat?.checkpoint}`);
    await kill(worker);
    await restart();
    phase('worker restarted');
    const resumed = (await handle.result()) as TrainPipelineResult;
    phase('resumed run');
    console.log(`kill and resume: ${phases.join(', ')}`); // where the time went, when a slow machine runs out of it
    return { uninterrupted, resumed, beat };
  });
}

/**
 * Cancels `handle` once its Python train step is boosting. Returns the run's failure and how long the Python activity
 * took to acknowledge: from the server's cancel request of the step to the step's cancelled event, both as the history
 * dates them (the workflow's own turns around them wait on the TypeScript worker, which is not what this measures).
 */
export async function cancelWhileTraining(h: TestHarness, handle: WorkflowHandle): Promise<{ err: unknown; acknowledged: number }> {
  return h.withWorker(async () => {
    await checkpointed(handle, 'the Python trainer to be boosting');
    await handle.cancel();
    const err = await handle.result().then(() => undefined, (e: unknown) => e);
    const events = (await handle.fetchHistory()).events ?? [];
    const at = (e: (typeof events)[number] | undefined) => (e?.eventTime?.seconds ? Number(e.eventTime.seconds) * 1000 + Math.round((e.eventTime.nanos ?? 0) / 1e6) : NaN);
    const requested = events.find((e) => e.activityTaskCancelRequestedEventAttributes);
    const cancelled = events.find((e) => e.activityTaskCanceledEventAttributes);
    return { err, acknowledged: at(cancelled) - at(requested) };
  });
}

/** The round a resumed train step says it continued after ("…, resumed after round 40"). */
export function resumedAfter(result: TrainPipelineResult): number {
  return Number(/resumed after round (\d+)/.exec(result.steps.find((s) => s.name === 'train')?.detail ?? '')?.[1]);
}
