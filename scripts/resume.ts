/**
 * Answers a run that waits for an operator after a step failed:
 *   npm run resume -- <workflowId> retry|skip|abort [--step <step>] [--reason "<why>"]
 * Prints what waits first; the same signals work from the plain CLI:
 *   temporal workflow signal -w <workflowId> --name retry --input '{"actor":"alice","reason":"data fixed"}'
 */
import os from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../workers/config';
import { abortSignal, retrySignal, skipSignal, type AwaitingStep } from '../workflows/operator';

const SIGNALS = { retry: retrySignal, skip: skipSignal, abort: abortSignal };

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const [workflowId, action] = args;
  if (!workflowId || !(action in SIGNALS)) {
    console.error('usage: npm run resume -- <workflowId> retry|skip|abort [--step <step>] [--reason "<why>"]');
    return 2;
  }
  const config = loadConfig();
  const connection = await Connection.connect({ address: config.address });
  try {
    const handle = new Client({ connection, namespace: config.namespace }).workflow.getHandle(workflowId);
    const progress = (await handle.query<{ awaitingOperator?: AwaitingStep[] }>('progress')) ?? {};
    const waiting = progress.awaitingOperator ?? [];
    if (waiting.length === 0) {
      console.error(`${workflowId} has no step waiting for an operator; nothing sent.`);
      return 1;
    }
    for (const w of waiting) console.log(`waiting: ${w.step} since ${w.since}${w.skippable ? ' (skippable)' : ''}\n  ${w.error}`);
    const decision = { actor: process.env.USER || os.userInfo().username, step: flag(args, '--step'), reason: flag(args, '--reason') };
    await handle.signal(SIGNALS[action as keyof typeof SIGNALS], decision);
    console.log(`sent ${action}${decision.step ? ` for ${decision.step}` : ' for every waiting step'} as ${decision.actor}`);
    return 0;
  } finally {
    await connection.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
