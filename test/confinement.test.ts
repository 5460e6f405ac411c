import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { ArtifactStore } from '../activities/storage/artifact-store';
import { createActivities } from '../activities/index';
import { trainPipeline } from '../workflows/train-pipeline';
import { stringify } from 'yaml';
import { flightsSpec, writeSpec, type SpecInput } from './support/specs';
import { harness, TEST_ARTIFACTS, type TestHarness } from './support/temporal';

/**
 * A hostile spec author's probes, each refused. The worker's data roots are this test's own folder and the
 * project; a secret is planted outside them, and nothing a spec says may read it, write beside it, or carry
 * it (or a secret cell of the data) into an artifact, a sink or a workflow history.
 */
const ROOT = path.resolve(__dirname, '..');
const fixtures = path.join(ROOT, 'test', 'fixtures');
const roots = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-confined-'));
const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-outside-'));
const SECRET = `outside-secret-${randomBytes(8).toString('hex')}`;
const CELL_SECRET = `cell-secret-${randomBytes(8).toString('hex')}`;
const secretFile = path.join(outside, 'credentials.csv');
const savedRoots = process.env.SLUICE_DATA_ROOTS;
const store = new ArtifactStore(TEST_ARTIFACTS);
const activities = createActivities(store, 'confine-registry');
let h: TestHarness;

beforeAll(async () => {
  process.env.SLUICE_DATA_ROOTS = [roots, ROOT].join(path.delimiter);
  fs.writeFileSync(secretFile, `user,password\nadmin,${SECRET}\n`);
  // The flights fixture with a free-text column, one of whose cells is a secret.
  const rows = fs.readFileSync(path.join(fixtures, 'tiny-flights.csv'), 'utf8').trim().split('\n');
  fs.writeFileSync(path.join(roots, 'flights.csv'), rows.map((r, i) => `${r},${i === 0 ? 'note' : i === 3 ? CELL_SECRET : String(i)}`).join('\n') + '\n');
  fs.copyFileSync(path.join(fixtures, 'tiny-airports.csv'), path.join(roots, 'airports.csv'));
  h = await harness('confine');
});
afterAll(async () => {
  process.env.SLUICE_DATA_ROOTS = savedRoots;
  await h?.close();
});

/** The flights definition over the fixture inside the roots (train = January, validate = February), changed by `change`. */
function spec(name: string, change: (s: SpecInput) => void = () => undefined): string {
  const s = flightsSpec();
  s.name = name;
  s.sources = { flights: { path: path.join(roots, 'flights.csv') }, airports: { path: path.join(roots, 'airports.csv') } };
  s.split = { train: { from: '2001-01-01', to: '2001-01-31' }, validate: { from: '2001-02-01', to: '2001-02-28' } };
  s.gates = {};
  s.inference = { shard_rows: 1000, slice_rows: 1000, max_parallel_shards: 1, sink: { type: 'parquet', path: path.join(roots, `sink-${name}`) } };
  s.on_failure = { wait_for_operator: false };
  change(s);
  return writeSpec(name, s);
}

async function refusal(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApplicationFailure)) throw new Error(`expected a refusal, got ${err === undefined ? 'success' : String(err)}`);
  expect(err.nonRetryable).toBe(true);
  expect(err.message).not.toContain(SECRET);
  expect(err.message).not.toContain(CELL_SECRET);
  return err;
}

/** Runs a spec's load, extract and features steps as a worker would. */
async function runFeatures(file: string) {
  const loaded = await activities.loadSpec({ spec: file });
  const { extracted } = await activities.extract({ loaded, window: { from: loaded.spec.split.train.from, to: loaded.spec.split.validate.to } });
  return activities.buildFeatures({ loaded, extracted });
}

const pwned = path.join(outside, 'pwned.csv');
const copyOut = `COPY (SELECT 42) TO '${pwned}'`;

describe('one statement, of the right kind, per SQL field (refused when the spec is loaded)', () => {
  it.each<[string, (s: SpecInput) => void, RegExp]>([
    ['a second statement in a features.stats entry', (s) => void (s.features.stats = { ...s.features.stats, x: `SELECT 1 AS x; ${copyOut}` }), /features\.stats\.x: must be one SELECT query/],
    ['a COPY after features.sql', (s) => void (s.features.sql = `${s.features.sql}; ${copyOut}`), /features\.sql: must be one SELECT query/],
    ['closing the wrapper of extract.query', (s) => void (s.extract.query = `SELECT * FROM flights); ${copyOut}; SELECT * FROM (SELECT 1`), /extract\.query: must be one SELECT query/],
    ['closing the wrapper of label.sql', (s) => void (s.label.sql = `delay > 15) AS delayed FROM extracted; ${copyOut}; SELECT (1`), /label\.sql: must be one SQL expression/],
    ['a comment that cuts off the window filters', (s) => void (s.label.sql = 'delay > 15) AS delayed FROM extracted --'), /label\.sql: must be one SQL expression/],
    ['ATTACH a database outside the roots', (s) => void (s.extract.query = `ATTACH '${path.join(outside, 'x.duckdb')}'`), /extract\.query: must be one SELECT query \(only a SELECT query is allowed here\)/],
    ['SET to undo the extension setting', (s) => void (s.features.stats = { x: 'SET autoinstall_known_extensions = true' }), /features\.stats\.x: must be one SELECT query/],
    ['INSTALL an extension', (s) => void (s.extract.query = 'INSTALL shellfs FROM community'), /extract\.query: must be one SELECT query/],
    ['a COPY in a SQL check', (s) => void (s.checks = { late: { sql: `SELECT * FROM checked WHERE delay > 600; ${copyOut}` } }), /checks\.late\.sql: must be one SELECT query/],
  ])('%s', async (_, change, message) => {
    const err = await refusal(activities.loadSpec({ spec: spec('probe', change) }));
    expect(err.type).toBe('SluiceSpecError');
    expect(err.message).toMatch(message);
  });
});

describe('DuckDB locked to the data roots (refused when the SQL runs)', () => {
  const outsideAccess = /reads or writes a file outside the data roots and the artifact store, which a spec may not do \(Permission Error: Cannot access file/;

  it.each<[string, (s: SpecInput) => void, string]>([
    ['read_text in features.sql', (s) => void (s.features.sql = s.features.sql.replace('s.delayed,', `s.delayed, (SELECT length(content) FROM read_text('${secretFile}')) AS leak,`)), 'features.sql'],
    ['read_csv in a features.stats entry', (s) => void (s.features.stats = { ...s.features.stats, leak: `SELECT * FROM read_csv('${secretFile}')` }), 'features.stats.leak'],
    ['glob of the home folder in extract.query', (s) => void (s.extract.query = `SELECT f.*, (SELECT count(*) FROM glob('${os.homedir()}/*')) AS files FROM flights f`), 'extract.query'],
    ['read_csv of /etc/passwd in label.sql', (s) => void (s.label.sql = "delay > (SELECT count(*) FROM read_csv('/etc/passwd'))"), 'label.sql'],
  ])('%s', async (_, change, field) => {
    const err = await refusal(runFeatures(spec('probe-runtime', change)));
    expect(err.type).toBe('SluiceSpecError');
    expect(err.message.startsWith(`${field}: `)).toBe(true);
    expect(err.message).toMatch(outsideAccess);
  });
});

describe('real paths', () => {
  it('refuses a source that is a symlink inside the roots pointing outside', async () => {
    const link = path.join(roots, 'linked-source.csv');
    fs.symlinkSync(secretFile, link);
    const err = await refusal(runFeatures(spec('symlink-source', (s) => void (s.sources.flights.path = link))));
    expect(err.type).toBe('SluiceSpecError');
    expect(err.message).toMatch(/sources\.flights\.path: .*linked-source\.csv is outside the data roots/);
  });

  it('refuses a sink folder that is a symlink pointing outside, before anything is scored', async () => {
    const link = path.join(roots, 'linked-sink');
    fs.symlinkSync(outside, link);
    const file = spec('symlink-sink', (s) => void (s.inference = { shard_rows: 1000, slice_rows: 1000, max_parallel_shards: 1, sink: { type: 'parquet', path: path.join(link, 'scores') } }));
    const loaded = await activities.loadSpec({ spec: file });
    const input = { loaded, window: { from: '2001-02-03', to: '2001-02-04' }, stats: {}, modelFeatures: [], modelName: 'probe v1' };
    const err = await refusal(activities.planInference(input));
    expect(err.message).toMatch(/inference\.sink\.path: .*linked-sink\/scores is outside the data roots/);
  });

  it('refuses a spec file outside the roots without echoing its content', async () => {
    const file = path.join(outside, 'spec.yaml');
    fs.writeFileSync(file, `name: ${SECRET}\npassword: ${SECRET}\n`);
    const err = await refusal(activities.loadSpec({ spec: file }));
    expect(err.message).toBe(`${file}: the pipeline spec file: ${file} is outside the data roots (${roots}, ${ROOT}); set SLUICE_DATA_ROOTS on the workers to allow it`);
  });

  it('refuses a Postgres sink URL that carries a password', async () => {
    const err = await refusal(
      activities.loadSpec({ spec: spec('pg-password', (s) => void (s.inference = { ...s.inference!, sink: { type: 'postgres', table: 't', url: `postgres://u:${SECRET}@localhost/db` } })) }),
    );
    expect(err.message).toMatch(/inference\.sink\.url: must not contain a password: a spec is recorded in every run's history\. Give the workers the password in SLUICE_POSTGRES_URL, PGPASSWORD or ~\/\.pgpass/);
  });
});

describe('the default data roots hold data only', () => {
  /** A worker's folder laid out like the project's: data where data goes, and state, tools and caches beside it. */
  const project = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-default-roots-')));
  const internal = ['.sluice/temporal/temporal.sqlite', '.tools/bin/temporal', '.git/HEAD', '.sluice/cache/entry', '.sluice/source-cache/entry', 'other-worker/notes.txt', 'README.md'];
  const cwd = process.cwd();

  beforeAll(() => {
    for (const file of internal) {
      fs.mkdirSync(path.dirname(path.join(project, file)), { recursive: true });
      fs.writeFileSync(path.join(project, file), SECRET);
    }
    fs.mkdirSync(path.join(project, 'pipelines'));
    fs.mkdirSync(path.join(project, 'data'));
    fs.copyFileSync(path.join(roots, 'flights.csv'), path.join(project, 'data', 'flights.csv'));
    fs.copyFileSync(path.join(roots, 'airports.csv'), path.join(project, 'data', 'airports.csv'));
    process.chdir(project);
    delete process.env.SLUICE_DATA_ROOTS;
  });
  afterAll(() => {
    process.chdir(cwd);
    process.env.SLUICE_DATA_ROOTS = [roots, ROOT].join(path.delimiter);
  });

  /** A spec in the project's pipelines/ folder over its data/ folder, with a statistic that reads `probe` through `reader`. */
  function probeSpec(name: string, reader?: { fn: 'read_text' | 'read_blob'; file: string }): string {
    const s = flightsSpec();
    s.name = name;
    s.sources = { flights: { path: '../data/flights.csv' }, airports: { path: '../data/airports.csv' } };
    s.split = { train: { from: '2001-01-01', to: '2001-01-31' }, validate: { from: '2001-02-01', to: '2001-02-28' } };
    if (reader) s.features.stats = { ...s.features.stats, probe: `SELECT length(content) AS n FROM ${reader.fn}('${reader.file}')` };
    const file = path.join(project, 'pipelines', `${name}.yaml`);
    fs.writeFileSync(file, stringify(s));
    return file;
  }

  it('a spec in pipelines/ over data/ builds its features', async () => {
    const set = await runFeatures(probeSpec('defaults-ok'));
    expect(set.features.train.rows).toBe(6);
  });

  it.each(internal.flatMap((file) => (['read_text', 'read_blob'] as const).map((fn) => [fn, file] as const)))('%s of %s is refused', async (fn, file) => {
    const err = await refusal(runFeatures(probeSpec(`probe-${fn.replace('_', '-')}`, { fn, file })));
    expect(err.type).toBe('SluiceSpecError');
    expect(err.message).toMatch(/^features\.stats\.probe: reads or writes a file outside the data roots and the artifact store/);
  });

  it('the same probe reads the file when the roots include the whole folder (so the refusals above are the roots at work)', async () => {
    process.env.SLUICE_DATA_ROOTS = project;
    try {
      const set = await runFeatures(probeSpec('probe-allowed', { fn: 'read_text', file: '.sluice/temporal/temporal.sqlite' }));
      expect(set.features.stats.probe.rows).toBe(1);
    } finally {
      delete process.env.SLUICE_DATA_ROOTS;
    }
  });
});

describe('secrets stay out of histories', () => {
  it('a secret cell that fails to convert is named by field and kind, and its value stays in the worker log', async () => {
    const file = spec('secret-cell', (s) => {
      s.extract.query = 'SELECT date, delay, distance, origin, destination, note FROM flights';
      s.label.sql = 'CAST(note AS INTEGER) > 3';
    });
    const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec: file }], taskQueue: h.config.taskQueue, workflowId: `confine-cell-${process.pid}` });
    const err = await h.withWorker(() => handle.result().then(() => undefined, (e: unknown) => e));
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause?.cause as ApplicationFailure;
    expect(cause.type).toBe('SluiceDataError');
    expect(cause.message).toMatch(/^label\.sql: Conversion Error: Could not convert string '…' to INT32/);
    expect(JSON.stringify(await handle.fetchHistory())).not.toContain(CELL_SECRET);
  });

  it('a read of the secret through features.sql fails the run, and the history carries the refusal only', async () => {
    const file = spec('secret-read', (s) => void (s.features.sql = s.features.sql.replace('s.delayed,', `s.delayed, (SELECT length(content) FROM read_text('${secretFile}')) AS leak,`)));
    const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec: file }], taskQueue: h.config.taskQueue, workflowId: `confine-read-${process.pid}` });
    const err = await h.withWorker(() => handle.result().then(() => undefined, (e: unknown) => e));
    expect(((err as WorkflowFailedError).cause?.cause as ApplicationFailure).type).toBe('SluiceSpecError');
    expect(JSON.stringify(await handle.fetchHistory())).not.toContain(SECRET);
  });

  it('after every probe: nothing was written outside the roots, and the planted secret is in no artifact, sink or history', async () => {
    expect(fs.readdirSync(outside).sort()).toEqual(['credentials.csv', 'spec.yaml']);
    // Other test files share the artifact store and stage slices meanwhile: a folder or file renamed since it was listed is skipped.
    const files = [TEST_ARTIFACTS, roots, path.join(ROOT, 'test', 'histories')].flatMap(filesUnder);
    expect(files.length).toBeGreaterThan(10);
    const holds = (file: string) => {
      try {
        return fs.readFileSync(file).includes(SECRET);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw err;
      }
    };
    expect(files.filter(holds)).toEqual([]);
    const histories: string[] = [];
    for await (const run of h.client.workflow.list()) histories.push(JSON.stringify(await h.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory()));
    expect(histories.length).toBeGreaterThan(0);
    expect(histories.filter((text) => text.includes(SECRET) || text.includes(CELL_SECRET))).toEqual([]);
  });
});

/** Every file below `dir`, walked folder by folder: one that vanishes while it is walked (a slice renamed into place) is skipped. */
function filesUnder(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries.flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : e.isFile() ? [path.join(dir, e.name)] : []));
}
