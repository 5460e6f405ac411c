import { sinkHistory } from '../../workflows/sink-history';
import type { SinkHistory } from '../../activities/train/python-activities';
import { output, runId, JSON_OPTION, type Define } from './command';
import { table } from './table';

/** `sluice sink history <spec>`: the snapshots of the spec's Iceberg table, each with its run and model. */
export const sink: Define = (program, run) => {
  const command = program.command('sink').description("the spec's published scores");
  command
    .command('history')
    .description("every snapshot (commit) of the spec's iceberg table, oldest first, with the run and model version that wrote it, and the files no snapshot references")
    .argument('<spec>', 'the pipeline spec file (read by the workers)')
    .option(...JSON_OPTION)
    .action((spec, options) =>
      run(options, async (context) => {
        const history = await context.client.workflow.execute(sinkHistory, { taskQueue: context.config.taskQueue, workflowId: runId('sink-history', spec), args: [{ spec }] });
        output(context, history, () => describeHistory(history));
        return 0;
      }),
    );
};

/** A table's snapshots as `sluice sink history` prints them. */
export function describeHistory(history: SinkHistory): string {
  if (history.snapshots.length === 0) return `${history.location}: no snapshots yet (nothing published)`;
  const rows = history.snapshots.map((s) => [`${s.snapshotId}${s.current ? '*' : ''}`, s.committedAt, s.operation, s.runId ?? '-', s.modelVersion === undefined ? '-' : `v${s.modelVersion}`, String(s.days), String(s.rows)]);
  return [
    `${history.location}: ${history.snapshots.length} snapshots (* current)`,
    table([{ head: 'snapshot' }, { head: 'committed' }, { head: 'operation' }, { head: 'run' }, { head: 'model' }, { head: 'days', right: true }, { head: 'rows added', right: true }], rows),
    ...(history.orphans.length > 0 ? [`${history.orphans.length} data files no snapshot references (left by a publish killed before its commit; safe to delete):`, ...history.orphans.map((f) => `  ${f}`)] : []),
  ].join('\n');
}
