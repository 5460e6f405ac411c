/**
 * Starts batch inference on the workers of a running Temporal server and follows it to the end.
 *   npm run infer -- pipelines/flights.yaml 2001-06-30                 one day, with the champion
 *   npm run infer -- pipelines/flights.yaml 2001-06-01 2001-06-30      a range of days
 *   npm run infer -- pipelines/flights.yaml 2001-06-30 --model-version 2
 */
import { Client, Connection } from '@temporalio/client';
import { loadConfig, runUrl } from '../workers/config';
import { batchInference, inferenceProgressQuery } from '../workflows/batch-inference';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const versionAt = args.indexOf('--model-version');
  const modelVersion = versionAt >= 0 ? Number(args.splice(versionAt, 2)[1]) : undefined;
  const [spec, from, to] = args;
  if (!spec || !from) {
    console.error('usage: npm run infer -- <spec.yaml> <YYYY-MM-DD> [<YYYY-MM-DD>] [--model-version N]');
    process.exit(2);
  }
  const config = loadConfig();
  const connection = await Connection.connect({ address: config.address });
  try {
    const client = new Client({ connection, namespace: config.namespace });
    const name = spec.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
    const workflowId = `infer-${name}-${from}${to ? `-${to}` : ''}-${Date.now()}`;
    const handle = await client.workflow.start(batchInference, {
      taskQueue: config.taskQueue,
      workflowId,
      args: [{ spec, from, to: to ?? from, modelVersion }],
    });
    console.log(`Started batchInference ${workflowId}\n  Web UI: ${runUrl(config, workflowId, handle.firstExecutionRunId)}`);
    const started = Date.now();
    const poll = setInterval(() => {
      handle.query(inferenceProgressQuery).then(
        (p) => process.stdout.write(`\r  ${p.status}: ${p.rowsDone}/${p.rowsTotal} rows, ${p.shards.filter((s) => s.status === 'done').length}/${p.shards.length} shards   `),
        () => undefined,
      );
    }, 500);
    try {
      const r = await handle.result();
      const seconds = (Date.now() - started) / 1000;
      console.log(`\nScored ${r.rows} rows of ${r.pipeline} (${r.from} .. ${r.to}, ${r.days} days, ${r.shards} shards) with model v${r.modelVersion} in ${seconds.toFixed(1)} s`);
      console.log(`Published to ${r.sink.type} sink ${r.sink.location}: ${r.sink.days} day partitions, ${r.sink.rows} rows`);
      console.log(`Cost: ${r.totalCost.cpuSeconds.toFixed(1)} s CPU, peak RSS ${(r.totalCost.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
    } finally {
      clearInterval(poll);
    }
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  let root = err as { message?: string; cause?: unknown } | undefined;
  while (root?.cause) root = root.cause as typeof root;
  console.error(`\nRun failed: ${root?.message ?? String(err)}`);
  process.exit(1);
});
