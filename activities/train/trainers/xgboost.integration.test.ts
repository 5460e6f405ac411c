import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { batchInference } from '../../../workflows/batch-inference';
import { trainPipeline } from '../../../workflows/train-pipeline';
import { cancelWhileTraining, resumedAfter, trainThroughKill } from '../../../test/support/python-training';
import { recordHistory } from '../../../test/support/record-history';
import { kill, startPythonWorker } from '../../../test/support/processes';
import { smallFlightsSpec } from '../../../test/support/specs';
import { harness, TEST_ARTIFACTS, type TestHarness } from '../../../test/support/temporal';
import { loadSpecFile } from '../../spec/loader';

/**
 * The XGBoost trainer plug-in end to end, with real processes: it trains on the Python worker, is compared with
 * the logistic champion and promoted on AUC, batchInference scores like XGBoost itself, a SIGKILLed worker's
 * training resumes from its checkpoint, and a cancelled run stops boosting.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const PYTHON = path.join(ROOT, '.tools', 'venv', 'bin', 'python');
let h: TestHarness;
let queue: string;
let work: string;
const pythons: ChildProcess[] = [];

async function pythonWorker(taskQueue: string): Promise<ChildProcess> {
  const child = await startPythonWorker({ TEMPORAL_ADDRESS: h.config.address, SLUICE_PYTHON_TASK_QUEUE: taskQueue, SLUICE_ARTIFACTS: TEST_ARTIFACTS });
  pythons.push(child);
  return child;
}

/** The three-week flights spec with an XGBoost trainer of these settings on `taskQueue`. */
function xgboostSpec(name: string, trainer: Record<string, unknown>, taskQueue = queue): string {
  return smallFlightsSpec(name, (s) => {
    s.trainer = { type: 'xgboost', seed: 5, threads: 2, ...trainer };
    s.execution = { python_task_queue: taskQueue, heartbeat_timeout: '5s' };
    s.inference = { shard_rows: 100_000, slice_rows: 100_000, max_parallel_shards: 1, sink: { type: 'parquet', path: path.join(work, name) } };
  });
}


const start = (spec: string, id: string) => h.client.workflow.start(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId: `${id}-${process.pid}` });

/**
 * Python that joins the sink's scores of `first`..`last` with the feature set's rows and XGBoost's own predictions
 * from `xgboost.json`, and counts the booster's categorical splits.
 */
const COMPARE = `
import json, sys, duckdb, numpy as np, onnx, xgboost as xgb
root, model, sink, first, last = sys.argv[1:6]
meta = {p.key: p.value for p in onnx.load(f"{model}/model.onnx").metadata_props}
names = json.loads(meta["sluice.feature_names"])
booster = xgb.Booster(); booster.load_model(f"{model}/xgboost.json")
rows = duckdb.sql(f"""SELECT DISTINCT s.score, {", ".join(f'f."{n}"' for n in names)} FROM read_parquet('{sink}') s
  JOIN read_parquet('{root}/features/{meta["sluice.features_fingerprint"]}/validate.parquet') f ON s.date = f.date AND s.origin = f.origin AND s.destination = f.destination
  WHERE CAST(f.date AS DATE) BETWEEN DATE '{first}' AND DATE '{last}'""").fetchnumpy()
x = np.column_stack([np.asarray(rows[n], dtype=np.float32) for n in names])
theirs = booster.predict(xgb.DMatrix(x, feature_types=booster.feature_types, enable_categorical=True))
trees = json.loads(booster.save_raw("json"))["learner"]["gradient_booster"]["model"]["trees"]
print(json.dumps({"matched": len(theirs), "maxDifference": float(np.max(np.abs(np.asarray(rows["score"], dtype=np.float64) - theirs))),
  "featureTypes": booster.feature_types, "categoricalSplits": sum(sum(1 for t in tree["split_type"] if t == 1) for tree in trees)}))
`;
import { binaryMetrics } from '../../../contracts/metric-values';

beforeAll(async () => {
  h = await harness('xgboost');
  queue = `${h.config.taskQueue}-python`;
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-xgboost-'));
  await pythonWorker(queue);
});
afterAll(async () => {
  for (const child of pythons) await kill(child);
  await h?.close();
});

describe('the XGBoost trainer plug-in', () => {
  it('refuses a setting it does not have, with the one meant', () => {
    let err: unknown;
    try {
      loadSpecFile(xgboostSpec('xgboost-typo', { max_depht: 4 }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as Error).message).toMatch(/: trainer: unknown field `max_depht`; did you mean `max_depth`\?$/);
  });

  it('trains on the Python worker, beats the logistic champion, is promoted, and batchInference scores like XGBoost itself', async () => {
    const logistic = smallFlightsSpec('xgboost-vs-logistic');
    const trees = xgboostSpec('xgboost-vs-logistic', { trees: 150, max_depth: 6, learning_rate: 0.1, early_stopping_rounds: 20 });
    const validation = { from: '2001-01-22', to: '2001-01-24' }; // every validation row: in the feature set, to feed XGBoost itself
    const { first, second, scored } = await h.withWorker(async () => {
      const first = await (await start(logistic, 'xgboost-logistic')).result();
      const second = await (await start(trees, 'xgboost-trees')).result();
      const scored = await h.client.workflow.execute(batchInference, { args: [{ spec: trees, ...validation }], taskQueue: h.config.taskQueue, workflowId: `xgboost-infer-${process.pid}` });
      return { first, second, scored };
    });
    expect(binaryMetrics(second.metrics).auc).toBeGreaterThan(binaryMetrics(first.metrics).auc);
    expect(second.promoted).toBe(true);
    expect(second.champion?.version).toBe(first.modelVersion);
    expect(second.decision.reasons.some((r) => r.startsWith(`pass: AUC ${binaryMetrics(second.metrics).auc.toFixed(4)} vs champion v${first.modelVersion}`))).toBe(true);
    expect(second.steps.find((s) => s.name === 'train')?.detail).toMatch(/^\d+ rounds, (early-stopped|max-iterations), refit \d+ on the whole window in \d+\.\d s$/);
    recordHistory(h.client.workflow.getHandle(`xgboost-trees-${process.pid}`), 'python-trainer');
    const history = await h.client.workflow.getHandle(`xgboost-trees-${process.pid}`).fetchHistory();
    const scheduled = (history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes).find((a) => a?.activityType?.name === 'trainPython');
    expect(scheduled?.taskQueue?.name).toBe(queue);
    expect(scored.modelVersion).toBe(second.modelVersion);

    const modelFolder = path.dirname(path.join(TEST_ARTIFACTS, second.modelUri.replace(/^artifact:/, '')));
    const compared = spawnSync(PYTHON, ['-c', COMPARE, TEST_ARTIFACTS, modelFolder, path.join(work, 'xgboost-vs-logistic', '*', '*.parquet'), validation.from, validation.to], { encoding: 'utf8' });
    expect(compared.stderr).toBe('');
    const { matched, maxDifference, featureTypes, categoricalSplits } = JSON.parse(compared.stdout) as { matched: number; maxDifference: number; featureTypes: string[]; categoricalSplits: number };
    expect(matched).toBeGreaterThan(scored.rows * 0.9); // distinct rows: flights sharing every key share their features
    expect(maxDifference).toBeLessThanOrEqual(1e-5);
    // The airports (flights.yaml's categorical features) are split on natively, and the ONNX model scores those splits like XGBoost.
    expect(featureTypes.slice(0, 2)).toEqual(['c', 'c']);
    expect(featureTypes.slice(2).every((t) => t === 'q')).toBe(true);
    expect(categoricalSplits).toBeGreaterThan(0);
  });

  it('SIGKILL of the Python worker mid-training: the next attempt resumes after round R > 0 and scores like an uninterrupted run', async () => {
    const killQueue = `${h.config.taskQueue}-python-kill`;
    const first = await pythonWorker(killQueue);
    // Two fingerprints for one model: early stopping never triggers with this patience, so the two settings train the same trees.
    const settings = (patience: number) => ({ trees: 120, max_depth: 10, learning_rate: 0.05, early_stopping_rounds: patience, refit: false });
    const startRun = (run: 'uninterrupted' | 'killed') => start(xgboostSpec('xgboost-kill', settings(run === 'uninterrupted' ? 1000 : 1001), killQueue), `xgboost-${run}`);
    const { uninterrupted, resumed, beat } = await trainThroughKill(h, startRun, first, () => pythonWorker(killQueue));
    const detail = resumed.steps.find((s) => s.name === 'train')?.detail ?? '';
    const round = resumedAfter(resumed);
    expect(round).toBeGreaterThanOrEqual(beat?.checkpoint ?? 10); // the checkpoint the killed attempt had heartbeaten, or a newer one
    expect(round).toBeLessThan(120);
    expect(detail).toMatch(/^120 rounds, max-iterations, resumed after round \d+$/);
    expect(uninterrupted.steps.find((s) => s.name === 'train')?.detail).toBe('120 rounds, max-iterations');
    // The same trees: the resumed attempt continues the checkpointed model and its early stopping's losses.
    expect(binaryMetrics(resumed.metrics).auc).toBe(binaryMetrics(uninterrupted.metrics).auc);
  });

  it('cancelling a run stops boosting within the heartbeat timeout, and registers nothing', async () => {
    const handle = await start(xgboostSpec('xgboost-cancel', { trees: 2000, max_depth: 10, learning_rate: 0.01, early_stopping_rounds: 5000, refit: false }), 'xgboost-cancel');
    const { err, acknowledged } = await cancelWhileTraining(h, handle);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(acknowledged).toBeLessThan(5_000 + 3_000); // NaN (no cancel request or no cancelled step) fails too
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.some((e) => e.activityTaskCanceledEventAttributes)).toBe(true);
    expect(events.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'registerModelVersion')).toBe(false);
  });
});
