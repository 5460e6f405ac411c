import type { ScheduleHandle } from '@temporalio/client';
import { applySchedules } from '../schedules';
import { actor, JSON_OPTION, output, type Context, type Define } from './command';
import { table } from './table';

/** A sub-command acting on one schedule by id: pause, unpause, trigger, delete. */
const ACTIONS: Record<string, { description: string; act: (handle: ScheduleHandle) => Promise<void> }> = {
  pause: { description: 'pause a schedule', act: (handle) => handle.pause(`paused by ${actor()}`) },
  unpause: { description: 'resume a paused schedule', act: (handle) => handle.unpause(`unpaused by ${actor()}`) },
  trigger: { description: 'start its run now', act: (handle) => handle.trigger() },
  delete: { description: 'delete a schedule (its runs stay)', act: (handle) => handle.delete() },
};

const ID = ['<id>', 'the schedule id (see `sluice schedule list`)'] as const;

function done(context: Context, id: string, what: string): number {
  output(context, { id, done: what }, () => `${what}: ${id}`);
  return 0;
}

export const schedule: Define = (program, run) => {
  const schedules = program
    .command('schedule')
    .description("Temporal Schedules from the spec's schedule: block (training, and daily inference of the newest partition)")
    .addHelpText('after', '\nSchedule ids are sluice-<pipeline>-train and sluice-<pipeline>-infer; `temporal schedule list` shows them too.');
  schedules
    .command('apply')
    .description("create or update the spec's schedules")
    .argument('<spec>', 'the pipeline spec file')
    .option(...JSON_OPTION)
    .action((spec, options) =>
      run(options, async (context) => {
        const applied = await applySchedules(context.client, context.config, spec);
        output(context, applied, () => applied.map((a) => `${a.created ? 'created' : 'updated'} ${a.id}: ${a.job} ${a.cadence}`).join('\n'));
        return 0;
      }),
    );
  schedules
    .command('list')
    .description('the Sluice schedules, paused or active, with their next run')
    .option(...JSON_OPTION)
    .action((options) =>
      run(options, async (context) => {
        const rows: Array<{ id: string; paused: boolean; next?: string; workflowType?: string }> = [];
        for await (const s of context.client.schedule.list()) {
          if (!s.scheduleId.startsWith('sluice-')) continue;
          rows.push({ id: s.scheduleId, paused: s.state.paused, next: s.info.nextActionTimes[0]?.toISOString(), workflowType: s.action?.workflowType });
        }
        output(context, rows, () => (rows.length === 0 ? 'no sluice schedules: create them with `sluice schedule apply <spec.yaml>`' : table([{ head: 'schedule' }, { head: 'state' }, { head: 'next run' }], rows.map((r) => [r.id, r.paused ? 'paused' : 'active', r.next ?? '-']))));
        return 0;
      }),
    );
  schedules
    .command('describe')
    .description("a schedule's state, recent runs and next run")
    .argument(...ID)
    .option(...JSON_OPTION)
    .action((id, options) =>
      run(options, async (context) => {
        const d = await context.client.schedule.getHandle(id).describe();
        output(context, d, () => `${d.scheduleId}: ${d.state.paused ? 'paused' : 'active'}, ${d.info.recentActions.length} recent runs, next ${d.info.nextActionTimes[0]?.toISOString() ?? '-'}`);
        return 0;
      }),
    );
  for (const [name, { description, act }] of Object.entries(ACTIONS)) {
    schedules
      .command(name)
      .description(description)
      .argument(...ID)
      .option(...JSON_OPTION)
      .action((id, options) =>
        run(options, async (context) => {
          await act(context.client.schedule.getHandle(id));
          return done(context, id, name);
        }),
      );
  }
  schedules
    .command('backfill')
    .description('start the runs the schedule would have started between two times')
    .argument(...ID)
    .argument('<from>', 'the start (ISO time)')
    .argument('<to>', 'the end (ISO time)')
    .option(...JSON_OPTION)
    .action((id, from, to, options) =>
      run(options, async (context) => {
        await context.client.schedule.getHandle(id).backfill({ start: new Date(from), end: new Date(to) });
        return done(context, id, 'backfill');
      }),
    );
};
