import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { temporalCliPath } from '../../scripts/dev-server';

const PROJECT = path.resolve(__dirname, '..', '..');

/** Recorded histories of the failure branches (operator answers, approvals, budgets, cancellation, stale decisions). */
export const BRANCH_HISTORIES = path.resolve(__dirname, '..', 'histories', 'branches');

/**
 * With `SLUICE_RECORD_HISTORIES=1`, saves a finished run's history as test/histories/branches/<name>.json
 * (`{ workflowId, history }`, the history as `temporal workflow show --output json` prints it), for the
 * replay test to guard that branch of the workflow code. Without it, does nothing.
 */
export function recordHistory(handle: WorkflowHandle, name: string): void {
  if (process.env.SLUICE_RECORD_HISTORIES !== '1') return;
  const address = process.env.SLUICE_TEST_ADDRESS as string;
  const shown = spawnSync(temporalCliPath(), ['workflow', 'show', '--address', address, '-w', handle.workflowId, '--output', 'json'], { encoding: 'utf8' });
  if (shown.status !== 0) throw new Error(`temporal workflow show failed: ${shown.stderr}`);
  // Worker identities and the project's folder name the recording host; they play no part in replay.
  const scrubbed = shown.stdout.replace(/"identity":\s*"[^"]*"/g, '"identity": "sluice-worker"').split(PROJECT).join('/sluice');
  const history = JSON.parse(scrubbed) as unknown;
  fs.mkdirSync(BRANCH_HISTORIES, { recursive: true });
  fs.writeFileSync(path.join(BRANCH_HISTORIES, `${name}.json`), `${JSON.stringify({ workflowId: handle.workflowId, history }, null, 1)}\n`);
}
