import { run } from '../scripts/sluice-cli';
import { scheduleId } from '../scripts/schedules';
import { trainPipeline } from '../workflows/train-pipeline';
import { batchInference } from '../workflows/batch-inference';
import { eventually } from './support/eventually';
import { smallFlightsSpec } from './support/specs';
import { harness, type TestHarness } from './support/temporal';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';

let h: TestHarness;

beforeAll(async () => {
  h = await harness('schedules');
  process.env.SLUICE_TASK_QUEUE = h.config.taskQueue;
});
afterAll(async () => {
  await h?.close();
});

/** Runs the sluice CLI against the test server and returns its exit code and output. */
async function sluice(...argv: string[]): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const code = await run(argv, h.client, (line) => lines.push(line));
  return { code, output: lines.join('\n') };
}

/** The runs a schedule started, newest first. */
async function runsOf(id: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of h.client.workflow.list({ query: `TemporalScheduledById = "${id}"` })) ids.push(w.workflowId);
  return ids;
}

describe('Temporal Schedules from the spec, through the sluice CLI', () => {
  it('applies, lists, pauses, triggers a training and an inference run that complete, and deletes', async () => {
    const sink = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-schedule-'));
    const spec = smallFlightsSpec('sched', (s) => {
      s.schedule = { train: { cron: '0 3 1 1 *' }, infer: { every: '365d' }, overlap: 'skip', time_zone: 'UTC' };
      s.inference = { shard_rows: 100_000, slice_rows: 100_000, max_parallel_shards: 1, sink: { type: 'parquet', path: sink } };
    });
    const applied = await sluice('schedule', 'apply', spec, '--json');
    expect(applied.code).toBe(0);
    expect(JSON.parse(applied.output)).toEqual([
      { id: 'sluice-sched-train', job: 'train', created: true, cadence: '0 3 1 1 *' },
      { id: 'sluice-sched-infer', job: 'infer', created: true, cadence: 'every 365d' },
    ]);
    expect((await sluice('schedule', 'apply', spec)).output).toContain('updated sluice-sched-train');
    const listed = JSON.parse((await sluice('schedule', 'list', '--json')).output) as Array<{ id: string; paused: boolean }>;
    expect(listed.filter((s) => s.id.startsWith('sluice-sched-')).map((s) => s.id).sort()).toEqual(['sluice-sched-infer', 'sluice-sched-train']);

    expect((await sluice('schedule', 'pause', scheduleId('sched', 'train'))).code).toBe(0);
    expect((await h.client.schedule.getHandle(scheduleId('sched', 'train')).describe()).state.paused).toBe(true);
    await sluice('schedule', 'unpause', scheduleId('sched', 'train'));

    await h.withWorker(async () => {
      await sluice('schedule', 'trigger', scheduleId('sched', 'train'));
      const [trainRun] = await eventually(() => runsOf(scheduleId('sched', 'train')), (ids) => ids.length > 0, 'a scheduled training run');
      const trained = await h.client.workflow.getHandle<typeof trainPipeline>(trainRun).result();
      expect(trained).toMatchObject({ pipeline: 'sched', modelVersion: 1, promoted: true });

      await sluice('schedule', 'trigger', scheduleId('sched', 'infer'));
      const [inferRun] = await eventually(() => runsOf(scheduleId('sched', 'infer')), (ids) => ids.length > 0, 'a scheduled inference run');
      const scored = await h.client.workflow.getHandle<typeof batchInference>(inferRun).result();
      expect(scored.from).toBe('2001-07-01'); // the newest day of the source
      expect(scored.rows).toBe(6);

      const models = await sluice('models', 'sched', '--json');
      expect(JSON.parse(models.output).aliases).toEqual({ champion: 1 });
    });

    expect((await sluice('schedule', 'delete', scheduleId('sched', 'train'))).code).toBe(0);
    await sluice('schedule', 'delete', scheduleId('sched', 'infer'));
    // The schedule list is read from visibility, which learns of a deletion a moment later.
    const after = await eventually(
      async () => (JSON.parse((await sluice('schedule', 'list', '--json')).output) as Array<{ id: string }>).filter((s) => s.id.startsWith('sluice-sched-')),
      (left) => left.length === 0,
      'the deleted schedules to leave the list',
      30_000,
    );
    expect(after).toEqual([]);
  });

  it('says what is wrong with a usage error and a missing registry', async () => {
    await expect(sluice('promote', 'sched', '--reason', 'test')).rejects.toThrow("missing required argument 'version'");
    await expect(sluice('promote', 'sched', 'vx', '--reason', 'test')).rejects.toThrow("command-argument value 'vx' is invalid for argument 'version'. is not a model version");
    expect(await sluice('models', 'no-such-pipeline')).toEqual({ code: 1, output: 'no models registered for no-such-pipeline: train one with `sluice train pipelines/no-such-pipeline.yaml`' });
  });
});
