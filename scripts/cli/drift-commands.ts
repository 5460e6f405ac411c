import type { BatchInferenceResult } from '../../workflows/batch-inference';
import { JSON_OPTION, output, wholeNumber, type Define } from './command';
import { quoted } from './resolve-run';
import { table } from './table';

/** Completed scoring runs read at most, newest first, for the days asked. */
const MAX_RUNS = 200;

/** PSI from which a cell is marked: a moderate shift (+) and a large one (!), the usual readings. */
const MODERATE = 0.1;
const LARGE = 0.25;

export interface DriftTable {
  pipeline: string;
  /** The newest scored days, oldest first. */
  days: string[];
  /** Per feature, its PSI on each of `days` (null: not scored by a run with a feature profile); the most drifted feature first. */
  features: Array<{ feature: string; psi: Array<number | null> }>;
  /** The run each day's figures come from (the newest that scored it). */
  runs: Record<string, string>;
}

/**
 * Each feature's drift on the pipeline's newest scored days: the per-day PSI that completed batchInference runs
 * recorded in their results (a day scored twice: the newer run's), read through Temporal's visibility.
 */
export const drift: Define = (program, run) =>
  program
    .command('drift')
    .description("each feature's drift (PSI against the model's validation window) on a pipeline's newest scored days, from its scoring runs")
    .argument('<pipeline>', 'the pipeline (its spec name:)')
    .option('--days <n>', 'the newest scored days to show', wholeNumber, 7)
    .option(...JSON_OPTION)
    .action((pipeline, options) =>
      run(options, async (context) => {
        const days = new Map<string, { run: string; psi: Record<string, number> }>();
        const query = `WorkflowType = 'batchInference' AND ExecutionStatus = 'Completed' AND SluicePipeline = ${quoted(pipeline)}`;
        let read = 0;
        for await (const info of context.client.workflow.list({ query })) {
          if (++read > MAX_RUNS) break;
          const result = (await context.client.workflow.getHandle(info.workflowId, info.runId).result()) as BatchInferenceResult;
          for (const [day, psi] of Object.entries(result.featureDrift ?? {})) if (!days.has(day)) days.set(day, { run: info.workflowId, psi });
        }
        const shown = [...days.keys()].sort().slice(-Math.max(1, options.days));
        const names = [...new Set(shown.flatMap((d) => Object.keys(days.get(d)?.psi ?? {})))];
        const highest = (f: string) => Math.max(...shown.map((d) => days.get(d)?.psi[f] ?? 0));
        const report: DriftTable = {
          pipeline,
          days: shown,
          features: names.sort((a, b) => highest(b) - highest(a) || (a < b ? -1 : 1)).map((feature) => ({ feature, psi: shown.map((d) => days.get(d)?.psi[feature] ?? null) })),
          runs: Object.fromEntries(shown.map((d) => [d, days.get(d)?.run ?? ''])),
        };
        output(context, report, () => {
          if (shown.length === 0) return `no scored day of ${pipeline} has feature drift yet: score some with sluice infer (a model trained before drift profiles has none)`;
          const cell = (v: number | null) => (v === null ? '-' : `${v.toFixed(3)}${v > LARGE ? '!' : v > MODERATE ? '+' : ''}`);
          const lines = table(
            [{ head: 'feature' }, ...shown.map((d) => ({ head: d.slice(5), right: true }))],
            report.features.map((f) => [f.feature, ...f.psi.map(cell)]),
          );
          return `${lines}\nPSI of each feature against the model's validation window; + above ${MODERATE} (moderate shift), ! above ${LARGE} (large).`;
        });
        return 0;
      }),
    );
