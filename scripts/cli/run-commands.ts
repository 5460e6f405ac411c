import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { runUrl } from '../../workers/config';
import { backfill, type BackfillResult } from '../../workflows/backfill';
import { batchInference, type BatchInferenceResult } from '../../workflows/batch-inference';
import { abortUpdate, retryUpdate, skipUpdate, type AwaitingStep } from '../../workflows/operator';
import { trainPipeline, type TrainPipelineResult } from '../../workflows/train-pipeline';
import { actor, output, runId, UsageError, type Args, type Command, type Context } from './command';
import { rootMessage } from '../../contracts/root-cause';
import { follow } from './follow';
import { formatBackfillResult, formatInferenceResult, formatTrainResult } from './format';

/** Prints where the run is, then (unless --no-wait) follows it to its end and prints its result. */
async function startAndFollow<T>(context: Context, args: Args, handle: WorkflowHandleWithFirstExecutionRunId, format: (result: T) => string): Promise<number> {
  const url = runUrl(context.config, handle.workflowId, handle.firstExecutionRunId);
  if (args.has('--no-wait')) {
    output(context, { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, url }, () => `started ${handle.workflowId}\n  Web UI: ${url}\n  follow it: sluice status ${handle.workflowId} --watch`);
    return 0;
  }
  if (!context.json) context.print(`started ${handle.workflowId}\n  Web UI: ${url}`);
  try {
    const result = await follow<T>(context, handle);
    output(context, result, () => `\n${format(result)}\n\ncost ledger: sluice cost ${handle.workflowId}`);
    return 0;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    output(context, { workflowId: handle.workflowId, failed: rootMessage(err) }, () => `\nrun failed: ${rootMessage(err)}\n  what it did: sluice status ${handle.workflowId}; what it cost: sluice cost ${handle.workflowId}`);
    return 1;
  }
}

export const train: Command = {
  usage: 'train <spec.yaml> [--no-wait]',
  summary: 'start a training run and follow it (extract → features → train → evaluate → register → promote)',
  details: ['The spec path is read by the workers, relative to their working directory.', '--no-wait prints the run id and returns at once.'],
  async run(context, args) {
    const spec = args.need(0, 'the spec file');
    const handle = await context.client.workflow.start(trainPipeline, { taskQueue: context.config.taskQueue, workflowId: runId('train', spec), args: [{ spec }] });
    return startAndFollow<TrainPipelineResult>(context, args, handle, formatTrainResult);
  },
};

export const infer: Command = {
  usage: 'infer <spec.yaml> <day | latest | from> [<to>] [--model-version N] [--no-wait]',
  summary: "score a day, the newest day ('latest') or a range of days with the champion (or --model-version) and publish to the sink",
  async run(context, args) {
    const spec = args.need(0, 'the spec file');
    const from = args.need(1, 'the day to score (YYYY-MM-DD or latest)');
    const to = args.positional[2];
    const input = from === 'latest' ? { spec, partition: 'latest' } : { spec, from, to: to ?? from };
    const handle = await context.client.workflow.start(batchInference, {
      taskQueue: context.config.taskQueue,
      workflowId: runId('infer', spec, from === 'latest' ? 'latest' : `${from}${to ? `-${to}` : ''}`),
      args: [{ ...input, modelVersion: args.integer('--model-version') }],
    });
    return startAndFollow<BatchInferenceResult>(context, args, handle, formatInferenceResult);
  },
};

export const backfillCommand: Command = {
  usage: 'backfill <spec.yaml> <from> <to> [--reprocess] [--concurrency N] [--model-version N] [--no-wait]',
  summary: 'score every day of a range, one child run per day; days already published are left alone unless --reprocess',
  async run(context, args) {
    const spec = args.need(0, 'the spec file');
    const from = args.need(1, 'the first day (YYYY-MM-DD)');
    const to = args.need(2, 'the last day (YYYY-MM-DD)');
    const handle = await context.client.workflow.start(backfill, {
      taskQueue: context.config.taskQueue,
      workflowId: runId('backfill', spec, `${from}-${to}`),
      args: [{ spec, from, to, reprocess: args.has('--reprocess'), concurrency: args.integer('--concurrency'), modelVersion: args.integer('--model-version') }],
    });
    return startAndFollow<BackfillResult>(context, args, handle, formatBackfillResult);
  },
};

const UPDATES = { retry: retryUpdate, skip: skipUpdate, abort: abortUpdate };

export const resume: Command = {
  usage: 'resume <run> retry|skip|abort [--step <step>] [--reason "<why>"]',
  summary: 'answer a run whose failed step waits for an operator: run it again (after a fix), skip it, or stop the run',
  details: ['Without --step the answer goes to every waiting step. Only steps the spec lists in on_failure.skippable can be skipped.'],
  async run(context, args) {
    const workflowId = args.need(0, 'the run (workflow id)');
    const action = args.need(1, 'what to do: retry, skip or abort');
    if (!(action in UPDATES)) throw new UsageError(`unknown answer "${action}": use retry, skip or abort`);
    const handle = context.client.workflow.getHandle(workflowId);
    const progress = await handle.query<{ awaitingOperator?: AwaitingStep[] }>('progress');
    const waiting = progress?.awaitingOperator ?? [];
    const decision = { actor: actor(), step: args.value('--step'), reason: args.value('--reason') };
    // An update, not a signal: the run accepts or refuses the answer at once, and says why.
    let applied;
    try {
      applied = await handle.executeUpdate(UPDATES[action as keyof typeof UPDATES], { args: [decision] });
    } catch (err) {
      if (!(err instanceof WorkflowUpdateFailedError)) throw err;
      const why = err.cause?.message ?? err.message;
      output(context, { workflowId, applied: false, refused: why, waiting }, () => `${workflowId} refused ${action}: ${why} (see sluice status ${workflowId})`);
      return 1;
    }
    output(context, { workflowId, applied, decision, waiting }, () =>
      [...waiting.map((w) => `waiting: ${w.step} since ${w.since}${w.skippable ? ' (skippable)' : ''}\n  ${w.error}`), `${action} accepted for ${applied.steps.join(', ')} as ${decision.actor}`].join('\n'),
    );
    return 0;
  },
};
