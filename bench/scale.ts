/**
 * Benchmark: the whole pipeline — extract, features, train, evaluate, register, then batch inference of
 * every day — at 3M rows (the flights sample) and at 30M rows (ten copies shifted by whole years,
 * bench/scale/data.ts), each on fresh artifacts. Prints every step's time at both sizes and the ratio
 * (target ≤ 10×: linear or better), each worker process's peak RSS (target < 1.5 GB at 30M, flat from
 * 3M), then the 30M run again with two worker processes and its speed-up.
 *
 *   npm run bench:scale                  (or: npx tsx bench/scale.ts [--copies 10] [--no-two-workers])
 *
 * Workers are separate processes (`node --import tsx workers/main.ts`) with DuckDB bounded per activity
 * (SLUICE_DUCKDB_MEMORY, default here 640MB) so that it spills instead of growing the worker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { parse, stringify } from 'yaml';
import { startDevServer, stopDevServer } from '../scripts/dev-server';
import { batchInference } from '../workflows/batch-inference';
import { trainPipeline } from '../workflows/train-pipeline';
import type { CostLedger } from '../contracts/ledger';
import { FLIGHTS_3M, scaledFlights } from './scale/data';
import { binaryMetrics } from '../contracts/metric-values';

const PORT = 7248;
const argv = process.argv.slice(2);
const COPIES = Number(argv[argv.indexOf('--copies') + 1] || 10) || 10;
const TWO_WORKERS = !argv.includes('--no-two-workers');
// A worker's own memory (Node, the workflow bundle, ONNX Runtime) is about 0.6 GB; DuckDB gets 640 MB more per activity.
const DUCKDB_MEMORY = process.env.SLUICE_DUCKDB_MEMORY || '640MB';

interface Worker {
  child: ChildProcess;
  log: string[];
}

interface RunFigures {
  rows: number;
  /** Per step: its span in seconds, and the peak RSS of the worker that ran it while it ran. */
  steps: Map<string, { seconds: number; rss: number }>;
  totalSeconds: number;
  peakRss: number[];
  auc: number;
  scored: number;
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-scale-'));
  process.env.SLUICE_DATA_ROOTS = [process.cwd(), work].join(path.delimiter);
  const server = await startDevServer({ port: PORT, uiPort: PORT + 10, stateDir: path.join(work, 'temporal') });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  try {
    const big = await scaledFlights(COPIES);
    console.log(`data: ${FLIGHTS_3M} (3,000,000 rows) and ${path.relative(process.cwd(), big.file)} (${big.rows.toLocaleString('en-US')} rows), DuckDB memory limit ${DUCKDB_MEMORY} per activity`);
    const small = await run(client, server.address, work, '3m', FLIGHTS_3M, 1, 1);
    const large = await run(client, server.address, work, `${COPIES * 3}m`, big.file, COPIES, 1);
    report(small, large);
    if (TWO_WORKERS) {
      const parallel = await run(client, server.address, work, `${COPIES * 3}m-2w`, big.file, COPIES, 2);
      console.log(`\n${COPIES * 3}M rows with two worker processes: ${parallel.totalSeconds.toFixed(1)} s against ${large.totalSeconds.toFixed(1)} s with one → speed-up ${(large.totalSeconds / parallel.totalSeconds).toFixed(2)}× (peak RSS ${parallel.peakRss.map(gb).join(' and ')})`);
      for (const [step, { seconds }] of parallel.steps) console.log(`  ${step.padEnd(20)} ${seconds.toFixed(1).padStart(8)} s  (one worker: ${(large.steps.get(step)?.seconds ?? NaN).toFixed(1)} s)`);
    }
  } finally {
    await connection.close();
    await stopDevServer(PORT, path.join(work, 'temporal'));
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** One full pipeline on `source` with `workers` worker processes on a fresh artifact store. */
async function run(client: Client, address: string, work: string, name: string, source: string, years: number, workers: number): Promise<RunFigures> {
  const lastYear = 2000 + years;
  const spec = parse(fs.readFileSync('pipelines/flights.yaml', 'utf8')) as Record<string, unknown> & { sources: Record<string, { path: string }> };
  spec.name = `scale-${name}`;
  spec.sources.flights.path = source;
  spec.sources.airports.path = path.resolve('node_modules', 'vega-datasets', 'data', 'airports.csv');
  spec.split = { train: { from: '2001-01-01', to: `${lastYear}-05-31` }, validate: { from: `${lastYear}-06-01`, to: `${lastYear}-06-30` } };
  spec.inference = { shard_rows: 1_500_000, slice_rows: 500_000, max_parallel_shards: 2, sink: { type: 'parquet', path: path.join(work, `scores-${name}`) } };
  // The data-parallel trainer at both sizes (chunks of 1M rows): memory per worker flat in the row count.
  spec.trainer = { type: 'logistic_regression', chunk_rows: 1_000_000 };
  spec.execution = { heartbeat_timeout: '5m' };
  delete spec.budget;
  const specFile = path.join(work, `scale-${name}.yaml`);
  fs.writeFileSync(specFile, stringify(spec));

  const queue = `scale-${name}-${Date.now()}`;
  const procs = await Promise.all(Array.from({ length: workers }, (_, i) => startWorker(address, queue, path.join(work, `artifacts-${name}`), `${name}-${i}`)));
  const started = performance.now();
  try {
    const trained = await client.workflow.execute(trainPipeline, { args: [{ spec: specFile }], taskQueue: queue, workflowId: `${queue}-train` });
    const scored = await client.workflow.execute(batchInference, { args: [{ spec: specFile, from: '2001-01-01', to: `${lastYear}-06-30` }], taskQueue: queue, workflowId: `${queue}-infer` });
    const totalSeconds = (performance.now() - started) / 1000;
    // A step's time is its span, first start to last finish (the shards of `score` run in parallel).
    const spans = new Map<string, { start: number; end: number; rss: number }>();
    const add = (ledger: CostLedger | undefined, prefix: string) => {
      for (const e of ledger?.entries ?? []) {
        const name = `${prefix}${e.step.replace(/^score-shard-\d+$/, 'score')}`;
        const span = spans.get(name) ?? { start: Infinity, end: -Infinity, rss: 0 };
        spans.set(name, { start: Math.min(span.start, Date.parse(e.startedAt)), end: Math.max(span.end, Date.parse(e.finishedAt)), rss: Math.max(span.rss, e.cost.peakRssBytes) });
      }
    };
    add(trained.ledger, '');
    add(scored.ledger, 'infer: ');
    const steps = new Map([...spans].map(([name, s]) => [name, { seconds: (s.end - s.start) / 1000, rss: s.rss }]));
    const figures = { rows: trained.ledger?.rows ?? 0, steps, totalSeconds, peakRss: procs.map(peakRss), auc: binaryMetrics(trained.metrics).auc, scored: scored.rows };
    console.log(`${name}: ${figures.rows.toLocaleString('en-US')} rows extracted, AUC ${figures.auc.toFixed(4)}, ${figures.scored.toLocaleString('en-US')} rows scored, ${totalSeconds.toFixed(1)} s, peak RSS ${figures.peakRss.map(gb).join(', ')}`);
    return figures;
  } finally {
    for (const p of procs) p.child.kill('SIGTERM');
  }
}

function report(small: RunFigures, large: RunFigures): void {
  const big = `${(large.rows / 1e6).toFixed(0)}M`;
  console.log(`\nstep                    3M s  ${big.padStart(6)} s     ratio (target ≤ 10×)   peak RSS 3M / ${big}`);
  for (const [step, { seconds, rss }] of large.steps) {
    const base = small.steps.get(step);
    const ratio = seconds / (base?.seconds ?? NaN);
    // Steps under a second are fixed costs (a Temporal round trip): their ratio says nothing about scaling.
    const verdict = (base?.seconds ?? 0) < 1 ? 'fixed cost' : ratio <= 10 ? 'met' : 'MISSED';
    console.log(`${step.padEnd(20)} ${(base?.seconds ?? NaN).toFixed(1).padStart(7)} ${seconds.toFixed(1).padStart(9)} ${ratio.toFixed(2).padStart(8)}×  ${verdict.padEnd(11)} ${gb(base?.rss ?? NaN)} / ${gb(rss)}`);
  }
  const total = large.totalSeconds / small.totalSeconds;
  console.log(`${'whole run'.padEnd(20)} ${small.totalSeconds.toFixed(1).padStart(8)} ${large.totalSeconds.toFixed(1).padStart(9)} ${total.toFixed(2).padStart(8)}×  ${total <= 10 ? 'met' : 'MISSED'}`);
  const peak = Math.max(...large.peakRss);
  console.log(`peak worker RSS: ${gb(Math.max(...small.peakRss))} at 3M, ${gb(peak)} at ${(large.rows / 1e6).toFixed(0)}M (target < 1.5 GB: ${peak < 1.5e9 ? 'met' : 'MISSED'})`);
}

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(2)} GB`;

/** A worker process of its own (one process: node with tsx's loader, so /proc shows its memory). */
function startWorker(address: string, queue: string, artifacts: string, name: string): Promise<Worker> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('workers', 'main.ts')], {
    env: { ...process.env, TEMPORAL_ADDRESS: address, SLUICE_TASK_QUEUE: queue, SLUICE_REGISTRY_TASK_QUEUE: `${queue}-registry`, SLUICE_ARTIFACTS: artifacts, SLUICE_DUCKDB_MEMORY: DUCKDB_MEMORY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const worker = { child, log: [] as string[] };
  return new Promise((resolve, reject) => {
    const read = (chunk: Buffer) => {
      worker.log.push(chunk.toString());
      if (worker.log.join('').includes('sluice worker polling')) resolve(worker);
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', (chunk: Buffer) => worker.log.push(chunk.toString()));
    child.once('exit', (code) => reject(new Error(`worker ${name} exited with ${code}:\n${worker.log.join('').slice(-2000)}`)));
  });
}

/** The process's peak resident set (VmHWM), in bytes. */
function peakRss(worker: Worker): number {
  const status = fs.readFileSync(`/proc/${worker.child.pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
