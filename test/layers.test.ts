import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import madge from 'madge';

/**
 * The layers ESLint enforces (eslint.config.mjs): contracts/ imports nothing of ours outside it (the bottom
 * layer), activities/ import nothing from workflows/, and workflows/ import activities/ only as types. Each
 * probe is linted as if it were a file of that folder; the whole tree is linted by `npm run lint`, which also
 * refuses import circles (madge, type imports included).
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
    ['activities/probe.ts', 'a workflow', "import { trainPipeline } from '../workflows/train-pipeline';\nexport const x = trainPipeline;\n", 'activities never import from workflows/'],
    ['activities/inference/probe.ts', 'a workflow type', "import type { TrainPipelineResult } from '../../workflows/train-pipeline';\nexport type X = TrainPipelineResult;\n", 'activities never import from workflows/'],
    ['contracts/probe.ts', 'a workflow type', "import type { Ledger } from '../workflows/ledger';\nexport type X = Ledger;\n", 'contracts/ is the bottom layer'],
    ['contracts/probe.ts', 'an activity type', "import type { ShardHeartbeat } from '../activities/inference/score-shard';\nexport type X = ShardHeartbeat;\n", 'contracts/ is the bottom layer'],
    ['contracts/probe.ts', 'a worker setting', "import type { SluiceConfig } from '../workers/config';\nexport type X = SluiceConfig;\n", 'contracts/ is the bottom layer'],
    ['contracts/probe.ts', 'a CLI type', "import type { Context } from '../scripts/cli/command';\nexport type X = Context;\n", 'contracts/ is the bottom layer'],
    ['workflows/probe.ts', 'activity code', "import { trainModel } from '../activities/train/train';\nexport const x = trainModel;\n", 'workflows and contracts import activities only as types'],
    ['contracts/probe.ts', 'activity code', "import { withDuckDB } from '../activities/sql/duckdb';\nexport const x = withDuckDB;\n", 'contracts/ is the bottom layer'],
  ])('%s: refuses importing %s', (file, _, code, message) => {
    expect((errors(file, code)).join('\n')).toContain(message);
  });

  it('has no import circles anywhere in the tree, type imports included', async () => {
    const graph = await madge(['activities', 'contracts', 'workflows', 'workers', 'scripts', 'test', 'bench'].map((d) => path.join(ROOT, d)), {
      baseDir: ROOT,
      fileExtensions: ['ts'],
      detectiveOptions: { ts: { skipTypeImports: false }, es6: { skipTypeImports: false } },
    });
    expect(Object.keys(graph.obj()).length).toBeGreaterThan(150);
    expect(graph.circular()).toEqual([]);
  });

  it('finds a circle when there is one (the check above can fail)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-circle-'));
    fs.writeFileSync(path.join(dir, 'a.ts'), "import type { B } from './b';\nexport type A = B[];\n");
    fs.writeFileSync(path.join(dir, 'b.ts'), "import type { A } from './a';\nexport interface B { a: A }\n");
    const graph = await madge(dir, { fileExtensions: ['ts'], detectiveOptions: { ts: { skipTypeImports: false } } });
    expect(graph.circular()).toEqual([['a.ts', 'b.ts']]);
  });

  it('contracts/ imports nothing of ours but contracts/', async () => {
    const graph = await madge(path.join(ROOT, 'contracts'), { baseDir: ROOT, fileExtensions: ['ts'], detectiveOptions: { ts: { skipTypeImports: false } } });
    const outside = Object.entries(graph.obj()).flatMap(([file, deps]) => deps.filter((d) => !d.startsWith('contracts/')).map((d) => `${file} → ${d}`));
    expect(outside).toEqual([]);
  });

  it.each([
    ['workflows/probe.ts', 'an activity type', "import type { ShardHeartbeat } from '../activities/inference/score-shard';\nexport type X = ShardHeartbeat;\n"],
    ['activities/probe.ts', 'a contract', "import { registryWorkflowId } from '../contracts/registry';\nexport const x = registryWorkflowId;\n"],
  ])('%s: allows importing %s', (file, _, code) => {
    expect(errors(file, code)).toEqual([]);
  });
});
