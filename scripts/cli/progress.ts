import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { WorkflowHandle } from '@temporalio/client';
import type { ShardHeartbeat } from '../../activities/inference/score-shard';
import type { BackfillState } from '../../workflows/backfill';
import type { InferenceProgress } from '../../workflows/batch-inference';
import type { AwaitingStep } from '../../workflows/operator';
import type { TrainProgress } from '../../workflows/train-pipeline';
import { progressText, type ProgressView } from './progress-bar';
import { table } from './table';
import { trialsTable } from './tune-commands';
import { outcomeLine } from '../../contracts/tuning';
import type { TrainHeartbeat } from '../../contracts/artifacts';

const indent = (text: string) => text.split('\n').map((line) => `  ${line}`);

const count = (n: number) => n.toLocaleString('en-US');

/** The activities on the Python worker's queues (`trainLightgbm`: runs recorded before trainer plug-ins; `suggestTrial` on its `-sampler` queue). */
const QUEUED_TRAIN_STEPS = ['trainPython', 'trainLightgbm', 'tuneTrial', 'suggestTrial'];

/** A pending activity of the run with its last heartbeat, as the server keeps it. */
export interface PendingActivity {
  type: string;
  attempt: number;
  details?: unknown;
  /** Set when no worker has started it and none polls its task queue: the queue it waits on. */
  unpolledQueue?: string;
}

/** Where a run is: the server's status, its `progress` query (when a worker answers) and its activities' heartbeats. */
export interface RunState {
  workflowId: string;
  type: string;
  status: string;
  progress?: unknown;
  pending: PendingActivity[];
}

export async function readRun(handle: WorkflowHandle): Promise<RunState> {
  const described = await handle.describe();
  const running = described.status.name === 'RUNNING';
  // Queries need a worker; a closed run is answered from its history by any worker of the queue, which
  // may first have to replay it (a busy worker can miss the first try).
  const progress = await queryProgress(handle, running ? 1 : 3);
  const pending: PendingActivity[] = (described.raw.pendingActivities ?? []).map((a) => {
    const payload = a.heartbeatDetails?.payloads?.[0];
    return { type: a.activityType?.name ?? '', attempt: a.attempt ?? 1, details: payload ? defaultPayloadConverter.fromPayload(payload) : undefined };
  });
  // A train step on another worker's queue (a Python trainer's) that no worker has picked up: is anyone polling its queue?
  const waitingOnQueue = (described.raw.pendingActivities ?? []).find((a) => QUEUED_TRAIN_STEPS.includes(a.activityType?.name ?? '') && a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED);
  const type = waitingOnQueue?.activityType?.name;
  if (type) {
    const queue = await unpolledQueue(handle, type);
    const entry = pending.find((a) => a.type === type);
    if (entry && queue) entry.unpolledQueue = queue;
  }
  return { workflowId: described.workflowId, type: described.type, status: running ? 'RUNNING' : described.status.name, progress, pending };
}

/** The task queue the run scheduled `activityType` on, if no worker polls it; undefined when one does (or it cannot tell). */
async function unpolledQueue(handle: WorkflowHandle, activityType: string): Promise<string | undefined> {
  try {
    const history = await handle.fetchHistory();
    const scheduled = (history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes).filter((a) => a?.activityType?.name === activityType).pop();
    const name = scheduled?.taskQueue?.name;
    if (!name) return undefined;
    const answer = await handle.client.workflowService.describeTaskQueue({
      namespace: handle.client.options.namespace,
      taskQueue: { name },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    });
    return (answer.pollers ?? []).length === 0 ? name : undefined;
  } catch {
    return undefined;
  }
}

async function queryProgress(handle: WorkflowHandle, tries: number): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await handle.query<unknown>('progress');
    } catch {
      if (attempt >= tries) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

/** Where the run is, fed by the progress query and the heartbeats: the share done and what it is doing. */
export function progressView(state: RunState): ProgressView {
  const head = `${state.workflowId} ${state.status.toLowerCase()}`;
  if (state.progress === undefined) return { head, detail: '(no worker answers the progress query)' };
  switch (state.type) {
    case 'trainPipeline':
      return { head, ...trainLine(state.workflowId, state.progress as TrainProgress, state.pending) };
    case 'batchInference':
      return { head, ...inferenceLine(state.workflowId, state.progress as InferenceProgress, state.pending) };
    case 'backfill':
      return { head, ...backfillLine(state.progress as BackfillState) };
    default:
      return { head, detail: '' };
  }
}

/** {@link progressView} as one line of text. */
export const progressLine = (state: RunState): string => progressText(progressView(state));

type Shown = Omit<ProgressView, 'head'>;
const share = (done: number, total: number) => (total > 0 ? done / total : 0);

function waiting(workflowId: string, awaiting: AwaitingStep[] | undefined): string {
  if (!awaiting || awaiting.length === 0) return '';
  return ` | WAITING FOR AN OPERATOR: ${awaiting.map((a) => `${a.step}: ${a.error}`).join('; ')} (sluice resume ${workflowId} retry|${awaiting.some((a) => a.skippable) ? 'skip|' : ''}abort)`;
}

function trainLine(workflowId: string, progress: TrainProgress, pending: PendingActivity[]): Shown {
  const finished = progress.steps.filter((s) => ['done', 'reused', 'skipped'].includes(s.status)).length;
  const current = progress.steps.find((s) => s.status === 'running');
  const beat = pending.find((a) => a.type === 'train' || QUEUED_TRAIN_STEPS.includes(a.type))?.details as TrainHeartbeat | undefined;
  const done = finished + (current?.name === 'train' && beat ? beat.iteration / beat.maxIterations : 0);
  const python = pending.find((a) => a.unpolledQueue !== undefined);
  const detail = python
    ? `${current?.name ?? 'train'}: waiting on task queue "${python.unpolledQueue}", which no Python worker polls; start one: SLUICE_PYTHON_TASK_QUEUE=${(python.unpolledQueue ?? '').replace(/-sampler$/, '')} npm run worker:python`
    : current?.name === 'tune' && progress.tuning
      ? `tune: ${tuneLine(progress.tuning)}`
      : current?.name === 'train' && beat
      ? `train: iteration ${beat.iteration} of at most ${beat.maxIterations}`
      : current
        ? current.name
        : progress.status;
  return {
    share: share(done, progress.steps.length),
    detail: `step ${Math.min(finished + 1, progress.steps.length)}/${progress.steps.length} ${detail}${progress.awaiting ? ` | ${progress.awaiting}` : ''}${waiting(workflowId, progress.awaitingOperator)}`,
  };
}

/** `5 of 30 trials done, 2 running, best holdout AUC 0.7712 (trial 4); 321.4 CPU s`. */
function tuneLine(tuning: NonNullable<TrainProgress['tuning']>): string {
  const best = tuning.best ? `, best ${outcomeLine(tuning.metric, tuning.best)} (trial ${tuning.best.number})` : '';
  return `${tuning.trials.length} of ${tuning.planned} trials done, ${tuning.running.length} running${best}; ${tuning.cpuSeconds.toFixed(1)} CPU s`;
}

function inferenceLine(workflowId: string, progress: InferenceProgress, pending: PendingActivity[]): Shown {
  const inFlight = pending
    .filter((a) => a.type === 'scoreShard')
    .map((a) => a.details as ShardHeartbeat | undefined)
    .reduce((sum, b) => sum + (b ? b.rowsDone + (b.rowsInSlice ?? 0) : 0), 0);
  const done = progress.rowsDone + inFlight;
  const shardsDone = progress.shards.filter((s) => s.status === 'done').length;
  const rows = progress.rowsTotal > 0 ? `${count(done)} of ${count(progress.rowsTotal)} rows, ` : '';
  return { share: share(done, progress.rowsTotal), detail: `${rows}${shardsDone}/${progress.shards.length} shards, ${progress.status}${waiting(workflowId, progress.awaitingOperator)}` };
}

function backfillLine(state: BackfillState): Shown {
  const finished = state.published.length + state.failed.length;
  const total = finished + state.pending.length;
  return { share: share(finished, total), detail: `${finished}/${total} days (${state.published.length} published, ${state.failed.length} failed, ${state.alreadyPublished.length} already there), ${count(state.rows)} rows` };
}

/** The run's steps (training) or shards (inference) or days (backfill), a line each. */
export function progressDetails(state: RunState): string[] {
  if (state.progress === undefined) return [];
  switch (state.type) {
    case 'trainPipeline': {
      const progress = state.progress as TrainProgress;
      const steps = indent(table([{ head: 'step' }, { head: 'status' }, { head: 'detail' }], progress.steps.map((s) => [s.name, s.status, s.detail ?? ''])));
      const tuning = progress.tuning;
      if (!tuning || tuning.trials.length === 0) return steps;
      const running = tuning.running.map((r) => `  trial ${r.number}: running`);
      return [...steps, '', `  trials of the search (* the best so far; ${tuning.cpuSeconds.toFixed(1)} CPU s):`, ...indent(trialsTable(tuning)), ...running];
    }
    case 'batchInference':
      return indent(
        table(
          [{ head: 'shard', right: true }, { head: 'status' }, { head: 'days' }, { head: 'rows', right: true }, { head: 'resumed after slice', right: true }],
          (state.progress as InferenceProgress).shards.map((s) => [s.index, s.status, s.days, count(s.rows), s.resumedFromSlice ?? '']),
        ),
      );
    case 'backfill': {
      const b = state.progress as BackfillState;
      return [`  published: ${b.published.join(', ') || '-'}`, ...b.failed.map((f) => `  FAILED ${f.day}: ${f.error}`)];
    }
    default:
      return [`  ${JSON.stringify(state.progress)}`];
  }
}
