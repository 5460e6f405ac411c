import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { runUrl } from '../../workers/config';
import { backfill, type BackfillResult } from '../../workflows/backfill';
import { batchInference, type BatchInferenceResult } from '../../workflows/batch-inference';
import { abortUpdate, retryUpdate, skipUpdate, type AwaitingStep } from '../../workflows/operator';
import { trainPipeline, type TrainPipelineResult } from '../../workflows/train-pipeline';
import { TypedSearchAttributes } from '@temporalio/common';
import { SluicePipeline } from '../../contracts/search-attributes';
import { actor, JSON_OPTION, modelVersion, output, pipelineNameOf, runId, UsageError, wholeNumber, type Context, type Define } from './command';
import { rootMessage } from '../../contracts/root-cause';
import { follow } from './follow';
import { resolveRunId } from './resolve-run';
import { formatBackfillResult, formatInferenceResult, formatTrainResult } from './format';

/** Exit code of a run left waiting for an operator (documented in `sluice --help`). */
export const EXIT_WAITING = 4;

/** How a run command follows its run: not at all (`--no-wait`), until it closes or waits for an operator, or to its end (`--follow`). */
interface Following {
  wait: boolean;
  follow?: true;
}

/** Prints where the run is, then (unless --no-wait) follows it to its end, or until it waits for an operator, and prints what happened. */
export async function startAndFollow<T>(context: Context, how: Following, handle: WorkflowHandleWithFirstExecutionRunId, format: (result: T) => string): Promise<number> {
  const url = runUrl(context.config, handle.workflowId, handle.firstExecutionRunId);
  if (!how.wait) {
    output(context, { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, url }, () => `started ${handle.workflowId}\n  Web UI: ${url}\n  follow it: sluice status ${handle.workflowId} --watch`);
    return 0;
  }
  if (!context.json) context.print(`started ${handle.workflowId}\n  Web UI: ${url}`);
  try {
    const followed = await follow<T>(context, handle, { untilWaiting: how.follow !== true });
    if ('waiting' in followed) {
      output(context, { workflowId: handle.workflowId, waiting: followed.waiting, answers: answers(handle.workflowId, followed.waiting).map((a) => a.command) }, () => waitingText(handle.workflowId, followed.waiting));
      return EXIT_WAITING;
    }
    output(context, followed.result, () => `\n${format(followed.result)}\n\ncost ledger: sluice cost ${handle.workflowId}`);
    return 0;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    output(context, { workflowId: handle.workflowId, failed: rootMessage(err) }, () => `\nrun failed: ${rootMessage(err)}\n  what it did: sluice status ${handle.workflowId}; what it cost: sluice cost ${handle.workflowId}`);
    return 1;
  }
}

/** The answers an operator can give the waiting steps, as commands with the run id filled in. */
function answers(workflowId: string, waiting: AwaitingStep[]): Array<{ command: string; why: string }> {
  return [
    { command: `sluice resume ${workflowId} retry`, why: 'after fixing the cause (the spec, the data or the workers): run the step again' },
    ...(waiting.some((w) => w.skippable) ? [{ command: `sluice resume ${workflowId} skip`, why: 'go on without the step (on_failure.skippable)' }] : []),
    { command: `sluice resume ${workflowId} abort`, why: 'stop the run' },
    { command: `sluice status ${workflowId} --watch`, why: 'follow it again' },
  ];
}

/** What a person at a terminal reads when their run waits for an operator: the failure and the exact answers. */
function waitingText(workflowId: string, waiting: AwaitingStep[]): string {
  const width = Math.max(...answers(workflowId, waiting).map((a) => a.command.length));
  return [
    '',
    `${workflowId} waits for an operator (on_failure.wait_for_operator): ${waiting.map((w) => `step ${w.step} failed`).join('; ')}`,
    ...waiting.map((w) => `  ${w.error}`),
    'The run keeps waiting (up to on_failure.wait_timeout). Answer it with:',
    ...answers(workflowId, waiting).map((a) => `  ${a.command.padEnd(width)}  ${a.why}`),
  ].join('\n');
}

/**
 * The Web UI's summary and details of a run started here — what was asked, by whom — and its pipeline as a
 * search attribute from the start, so `sluice runs --pipeline` finds it even when it fails loading its spec.
 */
export function metadata(command: string, spec: string, summary: string) {
  return {
    staticSummary: summary,
    staticDetails: `Started with \`sluice ${command}\` by ${actor()}.`,
    typedSearchAttributes: new TypedSearchAttributes([{ key: SluicePipeline, value: pipelineNameOf(spec) }]),
  };
}

export const NO_WAIT = ['--no-wait', 'print the run id and return at once; follow it with `sluice status <run> --watch`'] as const;
export const FOLLOW = ['--follow', `stay attached when a step fails and waits for an operator (by default the command then prints how to answer and exits with code ${EXIT_WAITING})`] as const;
const MODEL_VERSION = ['--model-version <n>', 'score with this registered version instead of the champion', modelVersion] as const;

export const train: Define = (program, run) =>
  program
    .command('train')
    .description('start a training run and follow it (extract → features → train → evaluate → register → promote)')
    .argument('<spec>', 'the pipeline spec file (read by the workers, relative to their working directory)')
    .option(...NO_WAIT)
    .option(...FOLLOW)
    .option(...JSON_OPTION)
    .action((spec, options) =>
      run(options, async (context) => {
        const handle = await context.client.workflow.start(trainPipeline, { taskQueue: context.config.taskQueue, workflowId: runId('train', spec), args: [{ spec }], ...metadata('train', spec, `train ${spec}`) });
        return startAndFollow<TrainPipelineResult>(context, options, handle, formatTrainResult);
      }),
    );

export const infer: Define = (program, run) =>
  program
    .command('infer')
    .description("score a day, the newest day ('latest') or a range of days with the champion (or --model-version) and publish to the sink; a pipeline split by hash scores its whole source")
    .argument('<spec>', 'the pipeline spec file')
    .argument('<day>', "the day to score (YYYY-MM-DD), 'latest' (a pipeline split by hash: its whole source), or the first day of a range")
    .argument('[to]', 'the last day of the range')
    .option(...MODEL_VERSION)
    .option(...NO_WAIT)
    .option(...FOLLOW)
    .option(...JSON_OPTION)
    .action((spec, from, to, options) =>
      run(options, async (context) => {
        const input = from === 'latest' ? { spec, partition: 'latest' } : { spec, from, to: to ?? from };
        const handle = await context.client.workflow.start(batchInference, {
          taskQueue: context.config.taskQueue,
          workflowId: runId('infer', spec, from === 'latest' ? 'latest' : `${from}${to ? `-${to}` : ''}`),
          args: [{ ...input, modelVersion: options.modelVersion }],
          ...metadata('infer', spec, `score ${spec} ${from}${to ? ` .. ${to}` : ''} with ${options.modelVersion ? `v${options.modelVersion}` : 'the champion'}`),
        });
        return startAndFollow<BatchInferenceResult>(context, options, handle, formatInferenceResult);
      }),
    );

export const backfillCommand: Define = (program, run) =>
  program
    .command('backfill')
    .description('score every day of a range, one child run per day; days already published are left alone unless --reprocess')
    .argument('<spec>', 'the pipeline spec file')
    .argument('<from>', 'the first day (YYYY-MM-DD)')
    .argument('<to>', 'the last day (YYYY-MM-DD)')
    .option('--reprocess', 'score days already published again, replacing them')
    .option('--concurrency <n>', 'days scored at once', wholeNumber)
    .option(...MODEL_VERSION)
    .option(...NO_WAIT)
    .option(...FOLLOW)
    .option(...JSON_OPTION)
    .action((spec, from, to, options) =>
      run(options, async (context) => {
        const handle = await context.client.workflow.start(backfill, {
          taskQueue: context.config.taskQueue,
          workflowId: runId('backfill', spec, `${from}-${to}`),
          args: [{ spec, from, to, reprocess: options.reprocess === true, concurrency: options.concurrency, modelVersion: options.modelVersion }],
          ...metadata('backfill', spec, `backfill ${spec} ${from} .. ${to}${options.reprocess ? ', reprocessing published days' : ''}`),
        });
        return startAndFollow<BackfillResult>(context, options, handle, formatBackfillResult);
      }),
    );

const UPDATES = { retry: retryUpdate, skip: skipUpdate, abort: abortUpdate };

export const resume: Define = (program, run) =>
  program
    .command('resume')
    .description('answer a run whose failed step waits for an operator: run it again (after a fix), skip it, or stop the run')
    .addHelpText('after', '\nWithout --step the answer goes to every waiting step. Only steps the spec lists in on_failure.skippable can be skipped.')
    .argument('<run>', 'the run (its workflow id, or the start of it)')
    .argument('<answer>', 'retry, skip or abort')
    .option('--step <step>', 'answer this waiting step only')
    .option('--reason <why>', 'why, for the audit trail')
    .option(...JSON_OPTION)
    .action((workflowId, action, options) =>
      run(options, async (context) => {
        if (!(action in UPDATES)) throw new UsageError(`unknown answer "${action}": use retry, skip or abort`);
        const handle = context.client.workflow.getHandle(await resolveRunId(context.client, workflowId));
        const progress = await handle.query<{ awaitingOperator?: AwaitingStep[] }>('progress');
        const waiting = progress?.awaitingOperator ?? [];
        const decision = { actor: actor(), step: options.step, reason: options.reason };
        // An update, not a signal: the run accepts or refuses the answer at once, and says why.
        let applied;
        try {
          applied = await handle.executeUpdate(UPDATES[action as keyof typeof UPDATES], { args: [decision] });
        } catch (err) {
          if (!(err instanceof WorkflowUpdateFailedError)) throw err;
          const why = err.cause?.message ?? err.message;
          output(context, { workflowId: handle.workflowId, applied: false, refused: why, waiting }, () => `${handle.workflowId} refused ${action}: ${why} (see sluice status ${handle.workflowId})`);
          return 1;
        }
        output(context, { workflowId: handle.workflowId, applied, decision, waiting }, () =>
          [...waiting.map((w) => `waiting: ${w.step} since ${w.since}${w.skippable ? ' (skippable)' : ''}\n  ${w.error}`), `${action} accepted for ${applied.steps.join(', ')} as ${decision.actor}`].join('\n'),
        );
        return 0;
      }),
    );
