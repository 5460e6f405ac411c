import { applySchedules } from '../schedules';
import { actor, output, UsageError, type Command } from './command';

export const schedule: Command = {
  usage: 'schedule apply <spec.yaml> | list | describe <id> | pause <id> | unpause <id> | trigger <id> | delete <id> | backfill <id> <from ISO time> <to ISO time>',
  summary: "Temporal Schedules from the spec's schedule: block (training, and daily inference of the newest partition)",
  details: ['Schedule ids are sluice-<pipeline>-train and sluice-<pipeline>-infer; `temporal schedule list` shows them too.'],
  async run(context, args) {
    const sub = args.need(0, 'a schedule command: apply, list, describe, pause, unpause, trigger, delete or backfill');
    if (sub === 'apply') {
      const applied = await applySchedules(context.client, context.config, args.need(1, 'the spec file'));
      output(context, applied, () => applied.map((a) => `${a.created ? 'created' : 'updated'} ${a.id}: ${a.job} ${a.cadence}`).join('\n'));
      return 0;
    }
    if (sub === 'list') {
      const rows: Array<{ id: string; paused: boolean; next?: string; workflowType?: string }> = [];
      for await (const s of context.client.schedule.list()) {
        if (!s.scheduleId.startsWith('sluice-')) continue;
        rows.push({ id: s.scheduleId, paused: s.state.paused, next: s.info.nextActionTimes[0]?.toISOString(), workflowType: s.action?.workflowType });
      }
      output(context, rows, () => (rows.length === 0 ? 'no sluice schedules: create them with `sluice schedule apply <spec.yaml>`' : rows.map((r) => `${r.id.padEnd(36)} ${r.paused ? 'paused ' : 'active '} next ${r.next ?? '-'}`).join('\n')));
      return 0;
    }
    const id = args.need(1, 'the schedule id (see `sluice schedule list`)');
    const handle = context.client.schedule.getHandle(id);
    switch (sub) {
      case 'describe': {
        const d = await handle.describe();
        output(context, d, () => `${d.scheduleId}: ${d.state.paused ? 'paused' : 'active'}, ${d.info.recentActions.length} recent runs, next ${d.info.nextActionTimes[0]?.toISOString() ?? '-'}`);
        return 0;
      }
      case 'pause':
        await handle.pause(`paused by ${actor()}`);
        break;
      case 'unpause':
        await handle.unpause(`unpaused by ${actor()}`);
        break;
      case 'trigger':
        await handle.trigger();
        break;
      case 'delete':
        await handle.delete();
        break;
      case 'backfill':
        await handle.backfill({ start: new Date(args.need(2, 'the start time')), end: new Date(args.need(3, 'the end time')) });
        break;
      default:
        throw new UsageError(`unknown schedule command "${sub}"`);
    }
    output(context, { id, done: sub }, () => `${sub}: ${id}`);
    return 0;
  },
};
