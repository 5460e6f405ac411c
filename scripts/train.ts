/**
 * Starts a training run on the workers of a running Temporal server and follows it to the end.
 *   npm run train -- pipelines/flights.yaml
 * Exit code 0 when the run completed (promoted or not), 1 when it failed.
 */
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../workers/config';
import { runTraining } from './run-training';

async function main(): Promise<void> {
  const spec = process.argv[2];
  if (!spec) {
    console.error('usage: npm run train -- <pipeline spec, e.g. pipelines/flights.yaml>');
    process.exit(2);
  }
  const config = loadConfig();
  const connection = await Connection.connect({ address: config.address });
  try {
    await runTraining(new Client({ connection, namespace: config.namespace }), config, spec);
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  // Workflow failures nest: workflow → activity → the application failure that says what is wrong.
  let root = err as { message?: string; cause?: unknown } | undefined;
  while (root?.cause) root = root.cause as typeof root;
  console.error(`Run failed: ${root?.message ?? String(err)}`);
  process.exit(1);
});
