/**
 * Benchmark: batch scoring of all 3,000,000 flights rows — input, features, model, Parquet sink — by
 * Sluice, against in the same run: (a) ONNX Runtime alone on in-memory tensors, (b) DuckDB alone
 * computing the features, (c) the same job as a plain Python script (bench/peers/batch_score.py).
 * The limit is (a)+(b): features plus scoring with no hand-off. Also peak RSS at 1M and 3M rows.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { ArtifactStore } from '../activities/storage/artifact-store';
import { loadSpecFile } from '../activities/spec/loader';
import { trainModel } from '../activities/train/train';
import { startDevServer, stopDevServer } from '../scripts/dev-server';
import { createSluiceWorker } from '../workers/create-worker';
import { loadConfig } from '../workers/config';
import { batchInference } from '../workflows/batch-inference';
import { trainPipeline } from '../workflows/train-pipeline';
import { inMemoryFeatures, ortAloneSeconds } from './in-memory-features';
import { featuresFor } from './reference';
import { fastestPeer } from './scoring-peer';
import { formatTimeline, timeline, type Timeline } from './history-timeline';

const FROM = '2001-01-01';
const TO = '2001-07-01';
const PORT = 7246;
const best = (xs: number[]) => Math.min(...xs);

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-'));
  // The benchmark's sinks live in its scratch folder: allow it (and the project) as data roots, here and in its children.
  process.env.SLUICE_DATA_ROOTS = [process.cwd(), work].join(path.delimiter);
  const root = path.resolve('.sluice', 'bench-artifacts');
  const store = new ArtifactStore(root);
  const specFile = 'pipelines/flights.yaml';
  const loaded = loadSpecFile(specFile);
  const features = await featuresFor(store, specFile);
  const { model } = await trainModel(store, { loaded, features });
  const names = features.featureColumns.map((c) => c.name);
  const window = { from: FROM, to: TO };

  // (b) DuckDB alone: the features of every row, materialized. (a) ONNX Runtime alone on those rows in memory.
  const { x, rows, duckdbSeconds } = await inMemoryFeatures(store, loaded, features, window);
  const ortSeconds = ortAloneSeconds(store.pathOf(model.uri), x, rows, names.length);

  // (c) the plain Python script, both fetch modes, on both DuckDB engines.
  const job = { store, loaded, features, window, model: store.pathOf(model.uri), work };
  const latestPeer = fastestPeer(job, 'pypi');
  const sameEnginePeer = fastestPeer(job, 'node');

  // Ours without Temporal (the activities in one process), and peak RSS at 1M and 3M rows.
  const direct = (from: string, to: string) => {
    const out = execFileSync(path.resolve('node_modules/.bin/tsx'), ['bench/score-range.ts', root, model.uri, features.fingerprint, from, to, path.join(work, `direct-${from}-${to}-${Date.now()}`)], { encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').pop() as string) as { rows: number; seconds: number; peakRssBytes: number };
  };
  const oneMillion = direct('2001-01-01', '2001-02-28');
  const all = [direct(FROM, TO), direct(FROM, TO), direct(FROM, TO)];
  const ourDirect = all.reduce((a, b) => (b.seconds < a.seconds ? b : a));

  // Ours end to end through Temporal: batchInference on a dev server with one in-process worker.
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-server-'));
  const server = await startDevServer({ port: PORT, headless: true, stateDir });
  const sinkSpec = path.join('pipelines', `.bench-${process.pid}.yaml`);
  fs.writeFileSync(sinkSpec, fs.readFileSync(specFile, 'utf8').replace('path: ../.sluice/sinks/flights-scores', `path: ${path.join(work, 'workflow-sink')}`));
  const config2 = { ...loadConfig(), address: server.address, taskQueue: 'bench', artifactRoot: root };
  const connection = await Connection.connect({ address: server.address });
  let workflowSeconds: number[] = [];
  let fastestRun: Timeline | undefined;
  try {
    const client = new Client({ connection });
    const { worker, connection: wc } = await createSluiceWorker({ config: config2 });
    workflowSeconds = await worker.runUntil(async () => {
      await client.workflow.execute(trainPipeline, { taskQueue: 'bench', workflowId: 'bench-train', args: [{ spec: sinkSpec }] });
      const seconds: number[] = [];
      for (let r = 0; r < 3; r++) {
        const t = performance.now();
        const result = await client.workflow.execute(batchInference, { taskQueue: 'bench', workflowId: `bench-infer-${r}`, args: [{ spec: sinkSpec, from: FROM, to: TO }] });
        if (result.rows !== rows) throw new Error(`workflow scored ${result.rows} rows, expected ${rows}`);
        seconds.push((performance.now() - t) / 1000);
      }
      fastestRun = await timeline(client, `bench-infer-${seconds.indexOf(best(seconds))}`);
      return seconds;
    });
    await wc.close();
  } finally {
    fs.rmSync(sinkSpec, { force: true });
    await connection.close();
    await stopDevServer(PORT, stateDir);
    fs.rmSync(stateDir, { recursive: true, force: true });
  }

  const limitSeconds = duckdbSeconds + ortSeconds;
  const rate = (s: number) => `${(rows / s / 1e6).toFixed(2)} M rows/s`;
  const line = (name: string, s: number) => `${name.padEnd(50)} ${s.toFixed(3).padStart(7)} s  ${rate(s).padStart(16)}`;
  const ours = best(workflowSeconds);
  console.log(`\nBatch scoring benchmark: ${rows} rows × ${names.length} features, flights ${FROM} .. ${TO}`);
  console.log(line('(a) ONNX Runtime alone, in-memory tensors', ortSeconds));
  console.log(line('(b) DuckDB alone, features materialized', duckdbSeconds));
  console.log(line('limit = (a) + (b)', limitSeconds));
  console.log(line(`(c) Python script, duckdb ${sameEnginePeer.duckdb} like ours (${sameEnginePeer.mode})`, sameEnginePeer.seconds));
  console.log(line(`(c') Python script, duckdb ${latestPeer.duckdb} from PyPI (${latestPeer.mode})`, latestPeer.seconds));
  console.log(line('sluice activities, no Temporal, to Parquet', ourDirect.seconds));
  console.log(line('sluice batchInference workflow, to Parquet', ours));
  if (fastestRun) console.log(['where the fastest workflow run went (from its history):', ...formatTimeline(fastestRun)].join('\n'));
  console.log(`\nours/peer throughput, same DuckDB engine: ${(sameEnginePeer.seconds / ours).toFixed(2)}×  (target ≥ 1.1×: ${sameEnginePeer.seconds / ours >= 1.1 ? 'met' : 'MISSED'})`);
  console.log(`ours/peer throughput, peer on DuckDB ${latestPeer.duckdb} (ours: ${sameEnginePeer.duckdb}, the engine npm's @duckdb/node-api embeds): ${(latestPeer.seconds / ours).toFixed(2)}×  (target ≥ 1.0×: ${latestPeer.seconds / ours >= 1 ? 'met' : 'MISSED'})`);
  console.log(`ours/limit throughput: ${((100 * limitSeconds) / ours).toFixed(0)}%  (target ≥ 50%: ${limitSeconds / ours >= 0.5 ? 'met' : 'MISSED'})`);
  console.log(`peak RSS (activities in one process): 1M rows (${oneMillion.rows}) ${(oneMillion.peakRssBytes / 2 ** 20).toFixed(0)} MiB, 3M rows ${(ourDirect.peakRssBytes / 2 ** 20).toFixed(0)} MiB  (target < 1536 MiB, flat)`);
  fs.rmSync(work, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
