/**
 * The plain-Python batch-scoring peer (bench/peers/batch_score.py): DuckDB computes the features of a window,
 * a scorer (ONNX Runtime, or lleaves for a LightGBM model) scores them, DuckDB writes Parquet by day.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ArtifactStore } from '../activities/storage/artifact-store';
import { codedFeaturesSql } from '../activities/features/categories';
import type { FeatureSet } from '../contracts/artifacts';
import type { DateWindow, LoadedSpec } from '../contracts/spec';
import { PYTHON } from './reference';

/** The DuckDB engine of the peer: PyPI's newest pinned (`pypi`), or the one npm's package embeds (`node`). */
export type PeerEngine = 'pypi' | 'node';

export interface PeerRun {
  mode: string;
  duckdb: string;
  scorer: string;
  rows: number;
  /** Features through published Parquet. */
  seconds: number;
  /** Of which scoring the fetched rows. */
  score_seconds: number;
}

export interface PeerJob {
  store: ArtifactStore;
  loaded: LoadedSpec;
  features: FeatureSet;
  window: DateWindow;
  /** The ONNX model ONNX Runtime scores with. */
  model: string;
  /** A LightGBM model's text: scored with lleaves (compiled once into `cache`, outside the timing) instead. */
  lleaves?: { modelText: string; cache: string; threads: number };
  /** A scratch folder: the peer's config and its Parquet output. */
  work: string;
}

export function runPeer(job: PeerJob, mode: 'arrow' | 'numpy', engine: PeerEngine): PeerRun {
  const { loaded, window } = job;
  const config = path.join(job.work, 'peer.json');
  const out = path.join(job.work, `peer-${mode}-${engine}-${Date.now()}`);
  fs.writeFileSync(
    config,
    JSON.stringify({
      flights: path.resolve('node_modules/vega-datasets/data/flights-3m.parquet'),
      airports: path.resolve('node_modules/vega-datasets/data/airports.csv'),
      stats: Object.fromEntries(Object.entries(job.features.stats).map(([k, v]) => [k, job.store.pathOf(v.uri)])),
      extract_sql: `SELECT * FROM (${loaded.spec.extract.query}) WHERE date >= DATE '${window.from}' AND date < DATE '${window.to}' + INTERVAL 1 DAY`,
      label_sql: loaded.spec.label.sql,
      label: loaded.spec.label.name,
      time_column: loaded.spec.extract.time_column,
      keys: loaded.spec.features.keys,
      features: job.features.featureColumns.map((c) => c.name),
      // Categorical features coded by the dictionary (the `sluice_categories` statistics table), as Sluice codes them.
      features_sql: codedFeaturesSql(loaded.spec.features.sql, loaded.spec.features.categorical ?? []),
      model: job.model,
      ...(job.lleaves ? { lleaves: { model_text: job.lleaves.modelText, cache: job.lleaves.cache, threads: job.lleaves.threads } } : {}),
      out,
    }),
  );
  const env = engine === 'node' ? { ...process.env, PYTHONPATH: path.resolve('.tools', 'pydeps-duckdb-node') } : process.env;
  const run = spawnSync(PYTHON, [path.resolve('bench/peers/batch_score.py'), config, '--mode', mode], { encoding: 'utf8', env });
  fs.rmSync(out, { recursive: true, force: true });
  if (run.status !== 0) throw new Error(`python peer failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() as string) as PeerRun;
}

/** The fastest of two runs in each fetch mode. */
export function fastestPeer(job: PeerJob, engine: PeerEngine): PeerRun {
  const runs = [runPeer(job, 'arrow', engine), runPeer(job, 'numpy', engine), runPeer(job, 'arrow', engine), runPeer(job, 'numpy', engine)];
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}
