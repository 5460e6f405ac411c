import { WorkflowNotFoundError, type Client } from '@temporalio/client';

/** Quotes a value for a visibility query. */
export const quoted = (value: string) => `"${value.replace(/["\\]/g, '')}"`;

/**
 * The workflow id a user means: the id itself, or the one run whose id starts with it. An ambiguous prefix
 * is refused with the candidates, newest first.
 */
export async function resolveRunId(client: Client, given: string): Promise<string> {
  const exists = await client.workflow.getHandle(given).describe().then(() => true, (err: unknown) => {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  });
  if (exists) return given;
  const candidates: string[] = [];
  for await (const info of client.workflow.list({ query: `WorkflowId STARTS_WITH ${quoted(given)}` })) {
    if (!candidates.includes(info.workflowId)) candidates.push(info.workflowId);
    if (candidates.length > 10) break;
  }
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) throw new Error(`no run ${given}: list runs with \`sluice runs\``);
  throw new Error(`${given} is the start of ${candidates.length > 10 ? 'more than 10' : candidates.length} runs; give more of the id:\n${candidates.slice(0, 10).map((c) => `  ${c}`).join('\n')}`);
}
