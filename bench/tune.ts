/**
 * Benchmark: `tune:` on pipelines/flights-tuned.yaml (LightGBM, origin and destination as categories), in one run:
 * - the same pipeline untuned (the trainer's defaults, refit): the AUC of categorical features alone;
 * - the tuned pipeline: validation AUC (target ≥ 0.82), the search's wall time, trials and CPU seconds against
 *   its budget;
 * - FLAML AutoML (LightGBM only) with a time budget equal to Sluice's search wall time, tuned on the same holdout
 *   days, then refit on every training day (target: Sluice ≥ FLAML − 0.002);
 * - a plain Optuna script with the same sampler, space, trial count and seed on the same feature files
 *   (target: Sluice's search wall time ≤ 1.15× the script's).
 *   npm run bench:tune [-- --budget 10m] [-- --no-script]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { parse, stringify } from 'yaml';
import { ArtifactStore } from '../activities/storage/artifact-store';
import { loadSpecFile } from '../activities/spec/loader';
import { durationSeconds } from '../contracts/budget';
import { paramsLine } from '../contracts/tuning';
import { freshArtifactRoot, withPythonBench } from './python-bench';
import { featuresFor, PYTHON } from './reference';
import { binaryMetrics } from '../contracts/metric-values';

const PORT = 7252;
const PEERS = path.resolve('bench', 'peers');
const argument = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const BUDGET = argument('--budget') ?? '10m';

function python<T>(script: string, args: string[]): T {
  const run = spawnSync(PYTHON, [path.join(PEERS, script), ...args], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, cwd: PEERS });
  if (run.status !== 0) throw new Error(`${script} failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() as string) as T;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-tune-'));
  process.env.SLUICE_DATA_ROOTS = [process.cwd(), work].join(path.delimiter);
  const cached = new ArtifactStore(path.resolve('.sluice', 'bench-artifacts'));
  const base = 'pipelines/flights-tuned.yaml';
  const features = await featuresFor(cached, base);
  const names = features.featureColumns.map((c) => c.name);
  const categorical = (features.categorical ?? []).map((c) => c.name);
  const root = freshArtifactRoot(cached, work);

  // The tuned spec with the bench's budget, and the same pipeline untuned (flights-tuned.yaml without `tune:`).
  const tuned = path.join('pipelines', `.bench-tune-${process.pid}.yaml`);
  fs.writeFileSync(tuned, stringify({ extends: 'flights-tuned.yaml', budget: { max_training_time: BUDGET }, execution: { python_task_queue: 'bench-python' } }));
  const untuned = path.join('pipelines', `.bench-untuned-${process.pid}.yaml`);
  const { tune: _tune, budget: _budget, extends: _extends, ...own } = parse(fs.readFileSync(base, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(untuned, stringify({ extends: 'flights.yaml', ...own, trainer: { type: 'lightgbm' }, execution: { python_task_queue: 'bench-python' } }));
  const spec = loadSpecFile(tuned).spec;

  try {
    const { plain, search } = await withPythonBench(PORT, root, async ({ train }) => ({
      plain: (await train(untuned, 'bench-untuned')).result,
      search: (await train(tuned, 'bench-tuned')).result,
    }));
    const tuning = search.tuning!;
    const entry = search.ledger!.entries.find((e) => e.step === 'tune')!;
    const searchSeconds = (Date.parse(entry.finishedAt) - Date.parse(entry.startedAt)) / 1000;
    const trainEntry = search.ledger!.entries.find((e) => e.step === 'train')!;
    const flaml = python<{ auc: number; log_loss: number; seconds: number; trials: number; best: Record<string, unknown>; best_holdout_auc: number }>('flaml_search.py', [
      cached.pathOf(features.train.uri),
      cached.pathOf(features.validate.uri),
      features.label,
      spec.extract.time_column,
      String(Math.round(searchSeconds)),
      categorical.join(','),
      ...names,
    ]);
    const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
    console.log(`\nTuning benchmark: ${features.train.rows} training rows × ${names.length} features (${categorical.join(', ')} categorical); budget.max_training_time ${BUDGET}`);
    console.log(`categorical features, trainer defaults: validation AUC ${binaryMetrics(plain.metrics).auc.toFixed(4)}  log loss ${binaryMetrics(plain.metrics).logLoss.toFixed(4)}`);
    console.log(`sluice tune:  validation AUC ${binaryMetrics(search.metrics).auc.toFixed(4)}  log loss ${binaryMetrics(search.metrics).logLoss.toFixed(4)}  (target ≥ 0.82: ${met(binaryMetrics(search.metrics).auc >= 0.82)})`);
    console.log(`  search ${searchSeconds.toFixed(0)} s wall, ${tuning.stopReason}; best holdout AUC ${tuning.best?.value?.toFixed(4)} (trial ${tuning.best?.number}: ${paramsLine(tuning.best?.params ?? {})})`);
    console.log(`  final fit ${trainEntry.cost.wallSeconds.toFixed(0)} s; trials' CPU ${tuning.cpuSeconds.toFixed(0)} s; ${search.ledger!.budgetLines.join('; ')}`);
    console.log(`FLAML 2.8 (lgbm, ${Math.round(searchSeconds)} s, same holdout, refit): validation AUC ${flaml.auc.toFixed(4)}  log loss ${flaml.log_loss.toFixed(4)}  ${flaml.trials} trials, best holdout AUC ${flaml.best_holdout_auc.toFixed(4)}, ${flaml.seconds.toFixed(0)} s with refit`);
    console.log(`  FLAML's best: ${JSON.stringify(flaml.best)}`);
    const gap = binaryMetrics(search.metrics).auc - flaml.auc;
    console.log(`\nAUC, sluice − FLAML at the same search time: ${gap >= 0 ? '+' : ''}${gap.toFixed(4)}  (target ≥ −0.002: ${met(gap >= -0.002)})`);
    if (!process.argv.includes('--no-script')) {
      const script = python<{ seconds: number; best_holdout_auc: number; trials: number; pruned: number }>('optuna_script.py', [
        cached.pathOf(features.train.uri),
        features.label,
        spec.extract.time_column,
        String(tuning.trials.length),
        String(spec.tune!.seed),
        JSON.stringify(spec.tune!.space),
        JSON.stringify(spec.trainer),
        categorical.join(','),
        ...names,
      ]);
      const ratio = searchSeconds / script.seconds;
      console.log(`plain Optuna script, ${script.trials} trials (${script.pruned} pruned): ${script.seconds.toFixed(0)} s, best holdout AUC ${script.best_holdout_auc.toFixed(4)}`);
      console.log(`search wall time, sluice/script: ${ratio.toFixed(2)}×  (target ≤ 1.15×: ${met(ratio <= 1.15)})`);
    }
    console.log(`(budget ${durationSeconds(BUDGET)} s of training time)`);
  } finally {
    for (const file of [tuned, untuned]) fs.rmSync(file, { force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
