import { spawnSync } from 'node:child_process';
import path from 'node:path';

/**
 * The layers ESLint enforces (eslint.config.mjs): activities/ and contracts/ import nothing from
 * workflows/, and workflows/ and contracts/ import activities/ only as types. Each probe is linted as if it
 * were a file of that folder; the whole tree is linted by `npm run lint`.
 */
const ROOT = path.resolve(__dirname, '..');

/** ESLint's errors for `code` as the file `file` (the CLI: jest's module sandbox cannot load the ESM config). */
function errors(file: string, code: string): string[] {
  const run = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'eslint'), ['--format', 'json', '--stdin', '--stdin-filename', file], { cwd: ROOT, input: code, encoding: 'utf8' });
  const [result] = JSON.parse(run.stdout) as { messages: { ruleId: string; message: string; severity: number }[] }[];
  return result.messages.filter((m) => m.severity === 2).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('layers', () => {
  it.each([
    ['activities/probe.ts', 'a workflow', "import { trainPipeline } from '../workflows/train-pipeline';\nexport const x = trainPipeline;\n", 'activities and contracts never import from workflows/'],
    ['activities/inference/probe.ts', 'a workflow type', "import type { TrainPipelineResult } from '../../workflows/train-pipeline';\nexport type X = TrainPipelineResult;\n", 'activities and contracts never import from workflows/'],
    ['contracts/probe.ts', 'a workflow type', "import type { Ledger } from '../workflows/ledger';\nexport type X = Ledger;\n", 'activities and contracts never import from workflows/'],
    ['workflows/probe.ts', 'activity code', "import { trainModel } from '../activities/train';\nexport const x = trainModel;\n", 'workflows and contracts import activities only as types'],
    ['contracts/probe.ts', 'activity code', "import { specError } from '../activities/errors';\nexport const x = specError;\n", 'workflows and contracts import activities only as types'],
  ])('%s: refuses importing %s', (file, _, code, message) => {
    expect((errors(file, code)).join('\n')).toContain(message);
  });

  it.each([
    ['workflows/probe.ts', 'an activity type', "import type { ModelArtifact } from '../activities/train';\nexport type X = ModelArtifact;\n"],
    ['activities/probe.ts', 'a contract', "import { registryWorkflowId } from '../contracts/registry';\nexport const x = registryWorkflowId;\n"],
  ])('%s: allows importing %s', (file, _, code) => {
    expect(errors(file, code)).toEqual([]);
  });
});
