import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { stopTuningUpdate } from '../../workflows/tune';
import { outcomeLine, paramsLine, type TuneSummary } from '../../contracts/tuning';
import { actor, output, JSON_OPTION, type Define } from './command';
import { resolveRunId } from './resolve-run';
import { table } from './table';

/** `sluice tune stop <run>`: the search starts no further trial and the run trains the best configuration so far. */
export const tune: Define = (program, run) => {
  const command = program.command('tune').description('control the hyper-parameter search (`tune:`) of a training run');
  command
    .command('stop')
    .description('end the search after the trials running now; the run goes on with the best configuration so far')
    .argument('<run>', 'the training run (its workflow id, or the start of it)')
    .option(...JSON_OPTION)
    .action((workflowId, options) =>
      run(options, async (context) => {
        const handle = context.client.workflow.getHandle(await resolveRunId(context.client, workflowId));
        try {
          const answer = await handle.executeUpdate(stopTuningUpdate, { args: [{ actor: actor() }] });
          output(context, { workflowId: handle.workflowId, stopped: true, answer }, () => `${handle.workflowId}: ${answer}`);
          return 0;
        } catch (err) {
          if (!(err instanceof WorkflowUpdateFailedError || err instanceof WorkflowNotFoundError)) throw err;
          const why = err instanceof WorkflowNotFoundError ? 'the run has ended, and its search with it' : (err.cause?.message ?? err.message);
          output(context, { workflowId: handle.workflowId, stopped: false, refused: why }, () => `${handle.workflowId} refused the stop: ${why}`);
          return 1;
        }
      }),
    );
};

/** A search's trials, a row each: number, how it ended, its parameters, its CPU seconds. */
export function trialsTable(summary: TuneSummary): string {
  return table(
    [{ head: 'trial', right: true }, { head: 'outcome' }, { head: 'parameters' }, { head: 'cpu s', right: true }],
    summary.trials.map((t) => [`${t.number}${t.number === summary.best?.number ? '*' : ''}`, outcomeLine(summary.metric, t), paramsLine(t.params), t.cost.cpuSeconds.toFixed(1)]),
  );
}
