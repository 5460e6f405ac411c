import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { workflowUrl } from '../../workers/config';
import { ledgerQuery, type CostLedger } from '../../contracts/ledger';
import { SluiceChecks, SluiceCpuSeconds, SluiceModelVersion, SluicePipeline, SluiceRows, SluiceStatus } from '../../contracts/search-attributes';
import { JSON_OPTION, output, UsageError, wholeNumber, type Define } from './command';
import { duration, workersCost } from './workers-commands';
import { rootMessage } from '../../contracts/root-cause';
import { follow } from './follow';
import { quoted, resolveRunId } from './resolve-run';
import { formatLedger } from './format';
import { table } from './table';
import { progressDetails, progressLine, readRun } from './progress';


/** The workflow types that are Sluice runs (a run that failed before loading its spec has no pipeline attribute yet). */
const RUN_TYPES = ['trainPipeline', 'batchInference', 'backfill', 'rollbackModel'];

/** Longest first error line `sluice runs` shows in its table (--json has the whole line). */
const ERROR_CHARS = 120;

interface RunRow {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  started: string;
  pipeline?: string;
  sluiceStatus?: string;
  modelVersion?: number;
  rows?: number;
  cpuSeconds?: number;
  /** What its data checks found: passed, warned or failed (absent without checks). */
  checks?: string;
  /** The first line of a failed run's error. */
  error?: string;
}

function runRow(info: WorkflowExecutionInfo): RunRow {
  const attributes = info.typedSearchAttributes;
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    type: info.type,
    status: info.status.name,
    started: info.startTime.toISOString(),
    pipeline: attributes.get(SluicePipeline),
    sluiceStatus: attributes.get(SluiceStatus),
    modelVersion: attributes.get(SluiceModelVersion),
    rows: attributes.get(SluiceRows),
    cpuSeconds: attributes.get(SluiceCpuSeconds),
    checks: attributes.get(SluiceChecks),
  };
}

/** Sluice's own status while the run is open or closed normally; the server's when it was terminated, cancelled or timed out. */
function shownStatus(r: RunRow): string {
  return r.sluiceStatus !== undefined && (r.status === 'RUNNING' || r.status === 'COMPLETED' || r.status === 'FAILED') ? r.sluiceStatus : r.status.toLowerCase();
}

export const runs: Define = (program, run) =>
  program
    .command('runs')
    .description('list Sluice runs, newest first, with their pipeline, status, model version, rows and CPU seconds (search attributes)')
    .addHelpText('after', '\nStatuses: running, awaiting-operator, awaiting-approval, promoted, not-promoted, published, failed, over-budget.')
    .option('--pipeline <name>', "only this pipeline's runs")
    .option('--status <status>', 'only runs with this Sluice status')
    .option('--type <type>', 'only this workflow type: trainPipeline, batchInference, backfill or rollbackModel')
    .option('--checks <state>', 'only runs whose data checks ended so: passed, warned or failed (SluiceChecks)')
    .option('--limit <n>', 'at most this many runs', wholeNumber, 20)
    .option(...JSON_OPTION)
    .action((options) =>
      run(options, async (context) => {
        const filters = [
          options.pipeline && `SluicePipeline = ${quoted(options.pipeline)}`,
          options.status && `SluiceStatus = ${quoted(options.status)}`,
          options.type && `WorkflowType = ${quoted(options.type)}`,
          options.checks && `SluiceChecks = ${quoted(options.checks)}`,
        ].filter(Boolean);
        const rows: RunRow[] = [];
        for await (const info of context.client.workflow.list({ query: filters.length > 0 ? filters.join(' AND ') : undefined })) {
          const row = runRow(info);
          if (!RUN_TYPES.includes(row.type)) continue; // not a Sluice run (a registry, a data-parallel fit)
          // A failed run says why, in one line (a run that failed loading its spec, too).
          if (row.status === 'FAILED') row.error = await firstErrorLine(context.client, row);
          rows.push(row);
          if (rows.length >= options.limit) break;
        }
        output(context, rows, () => {
          if (rows.length === 0) return `no runs${filters.length > 0 ? ` match ${filters.join(' AND ')}` : ''}; start one with sluice train <spec.yaml>`;
          const failed = rows.some((r) => r.error !== undefined);
          return table(
            [{ head: 'run' }, { head: 'type' }, { head: 'status' }, { head: 'started' }, { head: 'model' }, { head: 'checks' }, { head: 'rows', right: true }, { head: 'cpu s', right: true }, ...(failed ? [{ head: 'error' }] : [])],
            rows.map((r) => [
              r.workflowId,
              r.type,
              shownStatus(r),
              r.started.slice(0, 19),
              r.modelVersion !== undefined ? `v${r.modelVersion}` : '-',
              r.checks ?? '-',
              r.rows?.toLocaleString('en-US') ?? '',
              r.cpuSeconds?.toFixed(1) ?? '',
              ...(failed ? [cut(r.error ?? '')] : []),
            ]),
          );
        });
        return 0;
      }),
    );

/** The first line of the error a failed run ended with. */
async function firstErrorLine(client: Client, row: RunRow): Promise<string> {
  const message = await client.workflow.getHandle(row.workflowId, row.runId).result().then(() => '', rootMessage);
  return message.split('\n')[0];
}

const cut = (line: string) => (line.length > ERROR_CHARS ? `${line.slice(0, ERROR_CHARS)}…` : line);

export const status: Define = (program, run) =>
  program
    .command('status')
    .description("a run's progress (steps, rows, shards, what waits for an operator) with a progress bar; --watch follows it live until it ends")
    .argument('<run>', 'the run (its workflow id, or the start of it when only one run begins so)')
    .option('--watch', 'follow the run live until it ends')
    .option(...JSON_OPTION)
    .action((workflowId, options) =>
      run(options, async (context) => {
        const handle = context.client.workflow.getHandle(await resolveRunId(context.client, workflowId));
        let state = await readRun(handle);
        if (options.watch === true && state.status === 'RUNNING') {
          await follow(context, handle).catch(() => undefined);
          state = await readRun(handle);
        }
        const failure = state.status === 'FAILED' ? await handle.result().then(() => undefined, rootMessage) : undefined;
        output(context, { ...state, failure }, () =>
          [progressLine(state), ...progressDetails(state), ...(failure ? [`failed: ${failure}`] : []), `Web UI: ${workflowUrl(context.config, state.workflowId)}`].join('\n'),
        );
        return state.status === 'FAILED' || state.status === 'TERMINATED' ? 1 : 0;
      }),
    );

export const cost: Define = (program, run) =>
  program
    .command('cost')
    .description("a run's cost ledger: per step wall and CPU seconds, peak memory, rows and bytes in and out, the total, and the budget; with --workers, the worker processes the provisioner ran")
    .argument('[run]', 'the run (workflow id)')
    .option('--workers', "the provisioning ledger: every worker process `sluice workers run` started, its worker-seconds, busy and idle")
    .option('--since <duration>', 'with --workers: only workers that ran in the last 30m, 12h, 1d, …', duration)
    .option('--policy <file>', 'with --workers: the provisioning policy whose ledger to read', 'workers.yaml')
    .option(...JSON_OPTION)
    .action((workflowId, options) =>
      run(options, async (context) => {
        if (options.workers) return workersCost(context, options.policy, options.since);
        if (!workflowId) throw new UsageError('cost needs a run (or --workers for the provisioning ledger)');
        const handle = context.client.workflow.getHandle(await resolveRunId(context.client, workflowId));
        const ledger =
          (await handle.query(ledgerQuery).catch(() => undefined)) ??
          (await handle.result().then(
            (r: { ledger?: CostLedger }) => r.ledger,
            () => undefined,
          ));
        if (!ledger) {
          context.print(`no cost ledger for ${handle.workflowId}: no worker answered its ledger query (start one with \`npm run worker\`), or the run predates ledgers`);
          return 1;
        }
        output(context, ledger, () => formatLedger(ledger));
        return 0;
      }),
    );
