import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArtifactStore } from '../activities/storage/artifact-store';
import { SluiceRows, SluiceStatus } from '../contracts/search-attributes';
import { EXIT_WAITING } from '../scripts/cli/run-commands';
import { loadConfig, registryQueueOf } from '../workers/config';
import { batchInference } from '../workflows/batch-inference';
import { abortUpdate } from '../workflows/operator';
import { progressQuery, type TrainPipelineResult } from '../workflows/train-pipeline';
import { sluiceIn } from './support/cli';
import { eventually } from './support/eventually';
import { recordHistory } from './support/record-history';
import { registerLegacyExternal } from './support/legacy-external';
import { smallFlightsSpec, writeSpec } from './support/specs';
import { harness, TEST_ARTIFACTS, type TestHarness } from './support/temporal';

/**
 * What a new user hit in their first hour, each on the real dev server: a CLI that hung on a failed step, a
 * useless model promoted, runs missing from `sluice runs`, run ids named after the file, whole ids to type,
 * rows counted differently per model, and the wrong Web UI address.
 */
const ROOT = path.resolve(__dirname, '..');
const BYO = path.join(ROOT, 'test', 'fixtures', 'byo');
let h: TestHarness;
let sinks: string;

beforeAll(async () => {
  h = await harness('first-hour');
  sinks = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-first-hour-'));
});
afterAll(async () => {
  await h?.close();
});

const sluice = (...argv: string[]) => sluiceIn(h, argv);

/** A three-week flights spec named `name` whose feature SQL names a column that does not exist. */
function brokenSpec(name: string): string {
  return smallFlightsSpec(name, (s) => {
    s.features.sql = s.features.sql.replace('ln(s.distance)', 'ln(s.distnce)');
    s.on_failure = { wait_for_operator: true };
  });
}

describe('the CLI never leaves a person hanging', () => {
  it('prints the failure and the answers, with the run id, exits 4, and the run keeps waiting', async () => {
    await h.withWorker(async () => {
      const { code, output } = await sluice('train', brokenSpec('first-broken'));
      expect(code).toBe(EXIT_WAITING);
      const id = /^started (\S+)/.exec(output)?.[1] as string;
      expect(id).toMatch(/^train-first-broken-/);
      expect(output).toContain(`${id} waits for an operator (on_failure.wait_for_operator): step features failed`);
      expect(output).toContain('  features.sql: column `distnce` does not exist in `s` (the rows of `source`); its columns, closest first: distance, ');
      expect(output).toMatch(new RegExp(`^  sluice resume ${id} retry +after fixing the cause`, 'm'));
      expect(output).toMatch(new RegExp(`^  sluice resume ${id} abort +stop the run`, 'm'));
      expect(output).not.toContain(`sluice resume ${id} skip`); // features cannot be skipped
      const handle = h.client.workflow.getHandle(id);
      expect((await handle.describe()).status.name).toBe('RUNNING');
      await eventually(async () => (await handle.describe()).typedSearchAttributes.get(SluiceStatus), (s) => s === 'awaiting-operator', 'the status attribute');
      expect((await handle.query(progressQuery)).awaitingOperator?.[0].step).toBe('features');
      // A unique start of the id is enough to answer it.
      const aborted = await sluice('resume', id.slice(0, -6), 'abort', '--reason', 'a typo');
      expect(aborted.code).toBe(0);
      expect(aborted.output).toContain('abort accepted for features');
      await expect(handle.result()).rejects.toThrow();
    });
  });

  it('--follow stays attached through the wait, until the run ends', async () => {
    await h.withWorker(async () => {
      const followed = sluice('train', brokenSpec('first-follow'), '--follow');
      const id = await eventually(
        async () => {
          for await (const info of h.client.workflow.list({ query: `WorkflowId STARTS_WITH "train-first-follow-" AND TaskQueue = "${h.config.taskQueue}"` })) return info.workflowId;
          return undefined;
        },
        (found) => found !== undefined,
        'the run',
      );
      const handle = h.client.workflow.getHandle(id as string);
      await eventually(() => handle.query(progressQuery), (p) => (p.awaitingOperator?.length ?? 0) > 0, 'the wait');
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // the CLI has seen the wait and goes on following
      await handle.executeUpdate(abortUpdate, { args: [{ actor: 'test', reason: 'done watching' }] });
      const { code, output } = await followed;
      expect(code).toBe(1);
      expect(output).toMatch(/run failed: trainPipeline aborted by test at step features/);
    });
  });
});

describe('operator views', () => {
  it('lists runs that failed loading their spec, with their first error line, under the pipeline\'s name', async () => {
    const spec = smallFlightsSpec('first-badspec', (s) => void (s.extract.time_column = 'Flight Date'));
    await h.withWorker(async () => {
      const { code, output } = await sluice('train', spec);
      expect(code).toBe(1);
      expect(output).toMatch(/^started train-first-badspec-/); // the pipeline's name, not the file's
      expect(output).toContain('extract.time_column: expected a plain SQL name (letters, digits and _, not starting with a digit); rename the column in extract.query, e.g. SELECT "Flight Date" AS flight_date');
    });
    const listed = await eventually(
      async () => JSON.parse((await sluice('runs', '--pipeline', 'first-badspec', '--json')).output) as Array<{ workflowId: string; status: string; sluiceStatus?: string; error?: string }>,
      (rows) => rows.length === 1 && rows[0].sluiceStatus === 'failed',
      'the failed run in the visibility store',
    );
    expect(listed[0].status).toBe('FAILED');
    expect(listed[0].error).toMatch(/: extract\.time_column: expected a plain SQL name/);
    const table = (await sluice('runs', '--pipeline', 'first-badspec')).output;
    expect(table).toMatch(/^run +type +status +started +model +checks +rows +cpu s +error$/m);
    expect(table).toMatch(/^train-first-badspec-\S+ +trainPipeline +failed .*first-badspec-\w+\.yaml:\d+: extract\.time_column: .*…$/m);
  });

  it('status takes a unique start of a run id, and lists the candidates of an ambiguous one', async () => {
    const spec = brokenSpec('first-prefix');
    await h.withWorker(async () => {
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) {
        const started = await sluice('train', spec, '--no-wait');
        ids.push(/^started (\S+)/.exec(started.output)?.[1] as string);
      }
      const one = await sluice('status', ids[0].slice(0, -1)); // all but the final Z
      expect(one.output).toContain(ids[0]);
      await eventually(
        async () => (await h.client.workflow.count(`WorkflowId STARTS_WITH "train-first-prefix-"`)).count,
        (n) => n === 2,
        'both runs in the visibility store',
      );
      await expect(sluice('status', 'train-first-prefix-')).rejects.toThrow(`train-first-prefix- is the start of 2 runs; give more of the id:\n  ${ids[1]}\n  ${ids[0]}`);
      for (const id of ids) await sluice('resume', id, 'abort', '--reason', 'test');
    });
  });

  it('counts the rows a scoring run scores, whatever model scores them', async () => {
    const spec = smallFlightsSpec('first-rows', (s) => {
      s.inference = { shard_rows: 100_000, slice_rows: 100_000, max_parallel_shards: 1, sink: { type: 'parquet', path: path.join(sinks, 'rows') } };
    });
    const schema = JSON.parse(fs.readFileSync(path.join(BYO, 'byo-model.schema.json'), 'utf8'));
    await h.withWorker(async () => {
      await registerLegacyExternal(h.client, registryQueueOf(h.config), new ArtifactStore(TEST_ARTIFACTS), 'first-rows', path.join(BYO, 'byo-model.onnx'), schema.features);
      const handle = await h.client.workflow.start(batchInference, { args: [{ spec, partition: '2001-01-25', modelVersion: 1 }], taskQueue: h.config.taskQueue, workflowId: `first-rows-${process.pid}` });
      const result = await handle.result();
      const rows = await eventually(async () => (await handle.describe()).typedSearchAttributes.get(SluiceRows), (n) => n !== undefined, 'the rows attribute');
      // Before, a model trained elsewhere counted the training window's extract too (hundreds of thousands of rows).
      expect(rows).toBe(result.rows);
      expect(result.ledger?.rows).toBe(result.rows);
    });
  });
});

describe('promotion', () => {
  it('never promotes a model that does not beat the trivial one automatically, and says so', async () => {
    // A feature that is the label in the training window and its opposite in the validation window.
    const spec = smallFlightsSpec('first-baseline', (s) => {
      s.gates = {};
      s.features.sql = "SELECT s.date, s.origin, s.destination, s.delayed, CASE WHEN s.date < DATE '2001-01-22' THEN s.delay ELSE -s.delay END AS flipped_delay FROM source s";
      s.features.lookback = undefined;
      delete s.features.categorical;
    });
    const { code, output } = await h.withWorker(() => sluice('train', spec, '--json'));
    expect(code).toBe(0);
    const result = JSON.parse(output.slice(output.indexOf('{'))) as TrainPipelineResult;
    expect(result.promoted).toBe(false);
    expect(result.decision.reasons[0]).toMatch(/^FAIL: log loss \d+\.\d{4} does not beat the baseline 0\.\d{4} of always predicting the training rate \d+\.\d% \(gates\.beat_baseline\)$/);
  });
});

describe('registering a model trained elsewhere', () => {
  it('a new schema for the same file is a new version, never silently the old one', async () => {
    const spec = smallFlightsSpec('first-register', (s) => void (s.gates = { beat_baseline: false }));
    const schema = path.join(sinks, 'reordered.schema.json');
    const given = JSON.parse(fs.readFileSync(path.join(BYO, 'byo-model.schema.json'), 'utf8')) as { features: Array<{ name: string }> };
    fs.writeFileSync(schema, JSON.stringify({ features: [given.features[1], given.features[0], given.features[2]].map((f) => f.name) }));
    await h.withWorker(async () => {
      const first = await sluice('models', 'register', spec, path.join(BYO, 'byo-model.onnx'), '--schema', path.join(BYO, 'byo-model.schema.json'));
      expect(first.code).toBe(0);
      expect(first.output).toMatch(/^started register-first-register-/m);
      expect(first.output).toMatch(/^Pipeline first-register — model version 1 /m);
      expect(first.output).toMatch(/^Validation: AUC 0\.\d{4}/m);
      const again = await sluice('models', 'register', spec, path.join(BYO, 'byo-model.onnx'), '--schema', path.join(BYO, 'byo-model.schema.json'));
      expect(again.output).toMatch(/^Pipeline first-register — model version 1 /m);
      recordHistory(h.client.workflow.getHandle(/^started (\S+)/m.exec(again.output)?.[1] as string), 'register-external');
      const reordered = await sluice('models', 'register', spec, path.join(BYO, 'byo-model.onnx'), '--schema', schema);
      expect(reordered.output).toMatch(/^Pipeline first-register — model version 2 /m);
      const listed = (await sluice('models', 'first-register')).output;
      expect(listed).toMatch(/^v1 +\S+ +external +AUC 0\.\d{4} /m); // evaluated: an AUC, not '-'
    });
  });
});

describe('the Web UI address', () => {
  it('follows the dev server\'s --ui-port, in the server script and in the CLI', () => {
    const port = 7611 + (process.pid % 50);
    const uiPort = port + 1000;
    const state = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-ui-port-'));
    const server = (command: string, ...more: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'scripts/temporal-server.ts', command, '--port', String(port), '--state-dir', state, ...more], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    const started = server('start', '--ui-port', String(uiPort));
    try {
      expect(started.status).toBe(0);
      expect(started.stdout).toContain(`Web UI: http://localhost:${uiPort}`);
      expect(started.stdout).not.toContain('8233');
      expect(loadConfig({ TEMPORAL_ADDRESS: `localhost:${port}` }).uiUrl).toBe(`http://localhost:${uiPort}`);
      expect(loadConfig({ TEMPORAL_ADDRESS: `localhost:${port}`, SLUICE_UI_URL: 'https://temporal.example.com/' }).uiUrl).toBe('https://temporal.example.com');
      const cli = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'sluice.cjs'), 'train', writeSpec('first-ui', 'name: first-ui\n'), '--no-wait'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, TEMPORAL_ADDRESS: `localhost:${port}`, SLUICE_UI_URL: '' },
        timeout: 60_000,
      });
      expect(cli.stdout).toContain(`Web UI: http://localhost:${uiPort}/namespaces/default/workflows/train-first-ui-`);
    } finally {
      server('stop');
    }
    expect(loadConfig({ TEMPORAL_ADDRESS: `localhost:${port}` }).uiUrl).toBe('http://localhost:8233');
  });
});
