import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type http from 'node:http';
import { bundleWorkflowCode } from '@temporalio/worker';
import { binaryMetrics } from '../contracts/metric-values';
import { ENCRYPTED_FAILURES_PATH } from '../workers/codec/data-converter';
import { startCodecServer } from '../workers/codec/codec-server';
import { WORKFLOWS_PATH } from '../workers/create-worker';
import { progressQuery, trainPipeline } from '../workflows/train-pipeline';
import { retrySignal } from '../workflows/operator';
import { smallFlightsSpec } from './support/specs';
import { eventually } from './support/eventually';
import { harness, type TestHarness } from './support/temporal';
import { payloadsOf, showHistory, TEST_KEY_1, TEST_KEY_2, testKeys } from './support/codec';

/**
 * Payload encryption end to end, on the suite's dev server: what its stored history holds without the codec, what
 * the codec server shows, and a key rotated while a run waits for an operator.
 */
const ROOT = path.resolve(__dirname, '..');
const DATA = path.resolve(ROOT, 'node_modules', 'vega-datasets', 'data');
const TOKEN = 'encryption-test-token-0123456789';
let bundle: string;
let work: string;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-encryption-'));
  // Encrypting workers encode failure messages in the workflow code too: their own bundle.
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, failureConverterPath: ENCRYPTED_FAILURES_PATH, logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } });
  bundle = path.join(work, 'workflow-bundle-encrypted.js');
  fs.writeFileSync(bundle, code);
});

describe('payload encryption', () => {
  let h: TestHarness;
  let server: http.Server;
  let endpoint: string;
  beforeAll(async () => {
    h = await harness('encryption', { codecKeys: testKeys(TEST_KEY_1), bundle });
    ({ server, url: endpoint } = await startCodecServer({ keys: testKeys(`${TEST_KEY_2},${TEST_KEY_1}`), token: TOKEN, origins: [], namespaces: ['default'], port: 0, host: '127.0.0.1' }));
  });
  afterAll(async () => {
    await h?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("stores none of the spec's SQL, paths or metric values in plain text; the codec server shows them", async () => {
    const spec = smallFlightsSpec('encrypted-train');
    const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `encrypted-train-${process.pid}-${Date.now()}` });
    const result = await h.withWorker(() => handle.result());
    expect(result.modelVersion).toBe(1);
    const auc = String(binaryMetrics(result.metrics).auc);
    const secrets = ['RANGE BETWEEN INTERVAL 7 DAYS PRECEDING', 'sum(delayed::INT) AS late', 'flights-3m.parquet', spec, auc, result.modelUri];

    const rawText = await showHistory(handle.workflowId);
    const raw = payloadsOf(rawText);
    // Every payload is encrypted under the current key, but search attributes (the server indexes them; sluice
    // keeps them to names, statuses and counts) and the SDK's patch markers (names from the workflow code); nothing
    // secret is left in the history's plain text.
    expect(raw.length).toBeGreaterThan(20);
    const plainByDesign = /searchAttributes\.indexedFields\.|markerRecordedEventAttributes\.details\.patch-data\./;
    expect(raw.filter((p) => !plainByDesign.test(p.at) && (p.encoding !== 'binary/encrypted' || p.keyId !== 'k-test-1')).map((p) => p.at)).toEqual([]);
    for (const secret of secrets) expect({ secret, found: rawText.includes(secret) || raw.some((p) => p.text.includes(secret)) }).toEqual({ secret, found: false });

    const decoded = payloadsOf(await showHistory(handle.workflowId, { endpoint, auth: `Bearer ${TOKEN}` }));
    expect(decoded.filter((p) => p.encoding === 'binary/encrypted')).toEqual([]);
    for (const secret of secrets) expect({ secret, found: decoded.some((p) => p.text.includes(secret)) }).toEqual({ secret, found: true });
    // Without the token the CLI gets nothing decoded (it retries the refused request until its deadline).
    await expect(showHistory(handle.workflowId, { endpoint, auth: 'Bearer not-the-token-0123456' })).rejects.toThrow(/temporal workflow show failed/);

  });

  it('completes a run that waited for an operator across a key rotation, its history under both keys', async () => {
    const airports = path.join(work, 'airports.csv');
    const good = fs.readFileSync(path.join(DATA, 'airports.csv'), 'utf8');
    fs.writeFileSync(airports, `${good.split('\n').slice(0, 50).join('\n')}\n"unterminated,quote,row\n`);
    const spec = smallFlightsSpec('encrypted-rotation', (s) => (s.sources.airports.path = airports));
    const handle = await h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `encrypted-rotation-${process.pid}-${Date.now()}` });
    const waiting = await h.withWorker(() => eventually(() => handle.query(progressQuery), (p) => (p.awaitingOperator?.length ?? 0) > 0, 'the failed step to wait'));
    expect(waiting.awaitingOperator?.[0]).toMatchObject({ step: 'features', errorType: 'SluiceDataError' });

    // The key is rotated: a new current key, the old one kept for the payloads already written.
    const rotated = await harness('encryption', { codecKeys: testKeys(`${TEST_KEY_2},${TEST_KEY_1}`), bundle, taskQueue: h.config.taskQueue });
    try {
      fs.writeFileSync(airports, good);
      const rotatedHandle = rotated.client.workflow.getHandle(handle.workflowId);
      const result = await rotated.withWorker(async () => {
        await rotatedHandle.signal(retrySignal, { actor: 'alice', reason: 'restored airports.csv' });
        return rotatedHandle.result();
      });
      expect(result.modelVersion).toBe(1);
    } finally {
      await rotated.close();
    }
    const rawText = await showHistory(handle.workflowId);
    const raw = payloadsOf(rawText);
    expect(new Set(raw.filter((p) => !/searchAttributes|patch-data/.test(p.at)).map((p) => `${p.encoding} ${p.keyId}`))).toEqual(new Set(['binary/encrypted k-test-1', 'binary/encrypted k-test-2']));
    // The failure that made it wait quoted the broken file: its message is encrypted too.
    for (const secret of ['unterminated', 'does not exist', airports, 'restored airports.csv']) {
      expect({ secret, found: rawText.includes(secret) || raw.some((p) => p.text.includes(secret)) }).toEqual({ secret, found: false });
    }
    const decoded = payloadsOf(await showHistory(handle.workflowId, { endpoint, auth: `Bearer ${TOKEN}` }));
    for (const secret of ['does not exist', 'restored airports.csv']) expect({ secret, found: decoded.some((p) => p.text.includes(secret)) }).toEqual({ secret, found: true });
  });
});

describe('bad codec settings', () => {
  it('the worker refuses to start on a malformed key, naming the variable and never the key', () => {
    const run = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['workers/main.ts'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, SLUICE_CODEC_KEYS: `${TEST_KEY_1},k-old=not-a-key`, TEMPORAL_ADDRESS: '127.0.0.1:1' } });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe('sluice worker: SLUICE_CODEC_KEYS: entry 2 (key id `k-old`) is not 32 bytes in base64 (an AES-256 key; `sluice codec-key k-old` makes one)');
  });
});
