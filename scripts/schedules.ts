import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleOptionsAction, type ScheduleSpec as TemporalScheduleSpec } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { loadSpecFile } from '../activities/spec/loader';
import type { ScheduleSpec } from '../contracts/spec';
import type { SluiceConfig } from '../workers/config';

/** Which job of a pipeline a schedule runs. */
export type ScheduledJob = 'train' | 'infer';

/** Schedule ids are `sluice-<pipeline>-<job>`, so `temporal schedule list` reads naturally. */
export function scheduleId(pipeline: string, job: ScheduledJob): string {
  return `sluice-${pipeline}-${job}`;
}

export interface AppliedSchedule {
  id: string;
  job: ScheduledJob;
  created: boolean;
  cadence: string;
}

/**
 * Creates or updates one Temporal Schedule per job in the spec's `schedule:` block: `train` starts
 * trainPipeline, `infer` starts batchInference of the newest partition. Jobs no longer in the spec are
 * deleted, so the spec stays the single source of truth.
 */
export async function applySchedules(client: Client, config: SluiceConfig, specFile: string): Promise<AppliedSchedule[]> {
  const { spec } = loadSpecFile(specFile);
  const block = spec.schedule;
  if (!block) throw new Error(`${specFile}: has no schedule: block (train: {cron: …} and/or infer: {every: …})`);
  const applied: AppliedSchedule[] = [];
  for (const job of ['train', 'infer'] as const) {
    const id = scheduleId(spec.name, job);
    const cadence = block[job];
    if (!cadence) {
      await client.schedule.getHandle(id).delete().catch((err: unknown) => {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      });
      continue;
    }
    const action: ScheduleOptionsAction =
      job === 'train'
        ? { type: 'startWorkflow', workflowType: 'trainPipeline', taskQueue: config.taskQueue, args: [{ spec: specFile }], workflowId: `${id}-run`, staticSummary: `scheduled training of ${specFile}` }
        : { type: 'startWorkflow', workflowType: 'batchInference', taskQueue: config.taskQueue, args: [{ spec: specFile, partition: 'latest' }], workflowId: `${id}-run`, staticSummary: `scheduled scoring of the newest day of ${specFile}` };
    const timing = temporalSpec(block, cadence);
    const policies = { overlap: block.overlap.toUpperCase() as Uppercase<ScheduleSpec['overlap']>, catchupWindow: block.catchup_window as Duration };
    try {
      await client.schedule.create({ scheduleId: id, spec: timing, action, policies, memo: { pipeline: spec.name, job } });
      applied.push({ id, job, created: true, cadence: cadence.cron ?? `every ${cadence.every}` });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await client.schedule.getHandle(id).update((previous) => ({ ...previous, spec: timing, action, policies: { ...previous.policies, ...policies } }));
      applied.push({ id, job, created: false, cadence: cadence.cron ?? `every ${cadence.every}` });
    }
  }
  return applied;
}

function temporalSpec(block: ScheduleSpec, cadence: NonNullable<ScheduleSpec['train']>): TemporalScheduleSpec {
  return {
    ...(cadence.cron ? { cronExpressions: [cadence.cron] } : { intervals: [{ every: cadence.every as Duration }] }),
    jitter: block.jitter as Duration,
    timezone: block.time_zone,
  };
}
