import { ApplicationFailure, CancellationScope, defineQuery, isCancellation, patched, setCurrentDetails, setHandler, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Shard } from '../activities/inference/plan';
import type { DayScores } from '../activities/inference/score-stats';
import { SluiceChecks, SluiceModelVersion, SluicePipeline, SluiceStatus } from '../contracts/search-attributes';
import { isChecksFailure, mergeReports, type ChecksReport } from '../contracts/checks';
import { activitiesFor, count, onFailureOf, quick as beforeSpec, summarized } from './activity-proxies';
import { budgetOf } from '../contracts/budget';
import type { CostLedger } from '../contracts/ledger';
import { Ledger } from './ledger';
import { Operator, SKIPPED, type AwaitingStep, type OperatorLogEntry } from './operator';
import { rootMessage } from '../contracts/root-cause';
import { inputsOf, runWithSpecFixes, StepMemo } from './spec-reload';
import type { StepCost } from '../contracts/costs';
import type { LoadedSpec, SpecChange } from '../contracts/spec';
import { taskOf } from '../contracts/metric-values';
import type { CalibrationBin, ModelMetrics } from '../contracts/metrics';

export interface BatchInferenceInput {
  /** Path of the pipeline spec, as the worker sees it. */
  spec: string;
  /** One day to score, `YYYY-MM-DD`, or `latest` for the newest day in the source; or give `from` and `to` (inclusive). */
  partition?: string;
  from?: string;
  to?: string;
  /** Score with this registry version instead of the champion. */
  modelVersion?: number;
  /** Overrides the spec's `on_failure.wait_for_operator` (a backfill's children fail instead of waiting, so no day blocks the others). */
  waitForOperator?: boolean;
}

export interface ShardProgress {
  index: number;
  days: string;
  rows: number;
  status: 'pending' | 'running' | 'done' | 'failed' | 'skipped' | 'cancelled';
  resumedFromSlice?: number;
  /** What scored the shard: `compiled-trees` (a tree model compiled to native code) or `onnxruntime`. */
  engine?: string;
}

export interface InferenceProgress {
  pipeline?: string;
  status: string;
  modelVersion?: number;
  rowsTotal: number;
  rowsDone: number;
  shards: ShardProgress[];
  /** Steps that failed and wait for an operator's retry / skip / abort. */
  awaitingOperator?: AwaitingStep[];
  operatorLog?: OperatorLogEntry[];
  /** Fixed specs read on an operator's retry. */
  specChanges?: SpecChange[];
}

export interface BatchInferenceResult {
  pipeline: string;
  from: string;
  to: string;
  modelVersion: number;
  modelUri: string;
  rows: number;
  days: number;
  shards: number;
  /** A hash-split pipeline's one output partition (the day the run planned it): a snapshot of the whole source. */
  snapshot?: string;
  /** Days of shards an operator skipped: not published. */
  skippedDays: string[];
  /** Fixed specs read on an operator's retry (absent when the spec never changed). */
  specChanges?: SpecChange[];
  sink: { type: string; location: string; days: number; rows: number };
  totalCost: StepCost;
  /** Every step's cost, with times and the budget (absent in runs recorded before ledgers). */
  ledger?: CostLedger;
  /** Scores per day — rows, mean score, drift from the training distribution — as a chart (absent in runs recorded before it). */
  report?: { uri: string; file: string } | { error: string };
  /**
   * Per categorical feature, the rows (and days) whose category the training window never saw: scored as
   * missing, and a sign of drift. Absent when there were none.
   */
  unseenCategories?: Record<string, { rows: number; days: number }>;
  /**
   * What scored the shards (`compiled-trees`, `onnxruntime`), and why a tree model fell back to ONNX Runtime
   * (its compiled library did not build or load). Absent in runs recorded before it.
   */
  scoring?: { engines: string[]; warnings?: string[] };
  /** What the spec's data checks and drift bounds found on the published shards' days (absent when there were none). */
  checks?: ChecksReport;
  /** Per scored day, each feature's PSI against the model's validation window (absent for a model without a feature profile). */
  featureDrift?: Record<string, Record<string, number>>;
}

export const inferenceProgressQuery = defineQuery<InferenceProgress>('progress');


/**
 * Scores a partition (a day or a range of days) with the champion, or a pinned model version, and
 * publishes the scores to the spec's sink. The features come from the same definition training used
 * (and the statistics training learned); a schema drift fails the run before anything is scored.
 * Days are grouped into shards scored in parallel (at most `inference.max_parallel_shards` at once,
 * across every worker); the sink is written once, atomically, after every shard succeeded.
 */
export async function batchInference(input: BatchInferenceInput): Promise<BatchInferenceResult> {
  let window = input.partition === 'latest' ? undefined : windowOf(input);
  const progress: InferenceProgress = { status: 'running', rowsTotal: 0, rowsDone: 0, shards: [] };
  let waitForOperator = false;
  const operator = new Operator(
    () => waitForOperator,
    (awaiting) => setStatus(awaiting ? 'awaiting-operator' : 'running'),
  );
  setHandler(inferenceProgressQuery, () => ({ ...progress, awaitingOperator: operator.awaiting, operatorLog: operator.log, specChanges: specChanges.length > 0 ? specChanges : undefined }));
  const ledger = new Ledger();
  // Set once a shard's data checks failed: the run's checks stay failed though an operator skips the shard.
  let checksFailed = false;
  operator.onFailure = (step, err) => {
    ledger.bookFailure(step, err);
    // A failed data check shows in the Web UI's filters (SluiceChecks="failed") while the run waits or after it failed.
    if (isChecksFailure(rootMessage(err))) {
      checksFailed = true;
      upsertSearchAttributes([{ key: SluiceChecks, value: 'failed' }]);
    }
  };
  const setStatus = (status: string) => {
    progress.status = status;
    upsertSearchAttributes([{ key: SluiceStatus, value: status }]);
  };

  const runId = workflowInfo().runId;
  const staging = `artifact:inference/${runId}`;
  const specChanges: SpecChange[] = [];
  const memo = new StepMemo();
  try {
    const first = await beforeSpec.loadSpec({ spec: input.spec }); // a bad spec fails at once: there is nothing to resume
    return await runWithSpecFixes(operator, input.spec, first, specChanges, steps);
  } catch (err) {
    const cancelled = isCancellation(err);
    // Nothing half-done stays behind: the shards have stopped (their cancellation waits for them), so their staging goes.
    if (patched('remove-staging-on-failure')) await CancellationScope.nonCancellable(() => beforeSpec.removeStaging({ staging }));
    setStatus(cancelled ? 'cancelled' : ledger.stoppedBy ? 'over-budget' : 'failed');
    if (ledger.stoppedBy) ledger.publishAttributes();
    throw err;
  }

  /** Every step after loading the spec, on `loaded` (again from the top when an operator fixed the spec). */
  async function steps(loaded: LoadedSpec): Promise<BatchInferenceResult> {
    const { spec } = loaded;
    const { quick, data, scoring, pythonSinks } = activitiesFor(spec);
    ledger.pipeline = spec.name;
    ledger.budget = budgetOf(spec);
    const onFailure = onFailureOf(spec);
    waitForOperator = input.waitForOperator ?? onFailure.wait_for_operator;
    operator.waitTimeout = onFailure.wait_timeout;
    progress.pipeline = spec.name;
    upsertSearchAttributes([
      { key: SluicePipeline, value: spec.name },
      { key: SluiceStatus, value: 'running' },
    ]);
    if (!spec.inference) throw ApplicationFailure.nonRetryable(`${loaded.file}: inference: is required for batch inference`, 'SluiceSpecError');
    // A source split by hash has no days: the whole of it is scored (its hash buckets are the shards' unit).
    if ('hash' in spec.split) window = { from: spec.split.train.from, to: spec.split.validate.to };
    if (!window) {
      const newest = await operator.run('newest-day', () => quick.newestDay({ loaded }));
      window = { from: newest, to: newest };
    }
    const scored = window;

    const model = await operator.run('resolve-model', () => quick.resolveModel({ model: spec.name, version: input.modelVersion }));
    progress.modelVersion = model.version;
    // A model writes what its task predicts: a model of another task than the spec's is refused, not misread.
    const modelTask = model.metrics ? taskOf(model.metrics) : 'binary';
    if (modelTask !== (spec.task ?? 'binary')) {
      throw ApplicationFailure.nonRetryable(`${spec.name} v${model.version} is a ${modelTask} model; the spec's task is ${spec.task ?? 'binary'} (train a model for it, or score with a version of that task)`, 'SluiceSpecError');
    }
    setCurrentDetails([`**Pipeline** ${spec.name} (${loaded.file})`, `**Days** ${scored.from} .. ${scored.to}`, `**Model version** v${model.version}${input.modelVersion ? ' (pinned)' : ' (champion)'}`, `**Sink** ${spec.inference.sink.type}`].join('\n\n'));
    upsertSearchAttributes([{ key: SluiceModelVersion, value: model.version }]);

    // The feature definition as trained: the statistics training learned, never recomputed from new data.
    let features;
    if (model.origin === 'external' && !model.dataFingerprints.features) {
      // A model trained elsewhere and registered without evaluation (before `sluice models register` evaluated
      // it): statistics from the spec's training window (reused when stored).
      const trainWindow = { from: spec.split.train.from, to: spec.split.validate.to };
      const extracted = await memo.once('extract', inputsOf(spec.sources, spec.extract, trainWindow, spec.features.lookback, spec.label.horizon), async () => {
        const result = await ledger.measure('extract', () => operator.run('extract', () => data.extract({ loaded, window: trainWindow })));
        // The run's rows are the rows it scores, whatever model scores them (runs recorded before counted these too).
        if (!patched('rows-scored-only')) ledger.rows += result.extracted.rows;
        return result;
      });
      const built = await memo.once('features', inputsOf(extracted.extracted.fingerprint, spec.sources, spec.label, spec.features, spec.split), () =>
        ledger.measure('features', () => operator.run('features', () => data.buildFeatures({ loaded, extracted: extracted.extracted }))),
      );
      features = built.features;
    } else {
      features = await operator.run('load-features', () => quick.loadFeatureSet({ fingerprint: model.dataFingerprints.features, owner: `${spec.name} v${model.version}` }));
    }

    const { stats, featureColumns, definitionHash } = features;
    const plan = await ledger.measure('plan', () =>
      operator.run('plan', () =>
        data.planInference({ loaded, window: scored, stats, modelFeatures: model.featureTypes ?? featureColumns, modelName: `${spec.name} v${model.version}`, definitionHash }),
      ),
    );
    ledger.rows += plan.rows;
    progress.rowsTotal = plan.rows;
    progress.rowsDone = 0;
    progress.shards = plan.shards.map((s) => ({ index: s.index, days: dayRange(s), rows: s.rows, status: 'pending' }));

    // A regression's drift is measured in its validation deciles (a yes/no model's scoring input is the one it had before tasks).
    const deciles = model.metrics && 'task' in model.metrics && model.metrics.task === 'regression' ? model.metrics.deciles : undefined;
    // A multiclass model writes a probability column per class, in its class order.
    const classes = model.metrics && 'task' in model.metrics && model.metrics.task === 'multiclass' ? model.metrics.perClass.map((c) => c.class) : undefined;
    // Each feature's validation distribution, in the model's feature order: the shards measure every scored day's drift against it.
    // A feature constant within each validation day (the day of the week) has no per-day distribution to compare.
    const profile = features.profile ? model.featureNames.map((name) => features.profile?.find((p) => p.name === name && !p.dayLevel)) : undefined;
    const scoringModel = { uri: model.artifactUri, version: model.version, featureNames: model.featureNames, ...(deciles ? { deciles } : {}), ...(classes ? { classes } : {}), ...(profile ? { profile } : {}) };
    const shardChecks: ChecksReport[] = [];
    const dayScores: DayScores[] = [];
    const warnings = new Set<string>();
    // After a spec fix, slices staged under the old spec must not count as done.
    if (specChanges.length > 0) await operator.run('remove-staging', () => quick.removeStaging({ staging }));
    await boundedParallel(plan.shards, spec.inference.max_parallel_shards, async (shard) => {
      const state = progress.shards[shard.index];
      ledger.check(`score-shard-${shard.index}`);
      state.status = 'running';
      const startedAt = new Date().toISOString();
      try {
        const result = await operator.step(
          `score-shard-${shard.index}`,
          () => summarized(scoring.scoreShard, `score shard ${shard.index + 1} of ${plan.shards.length}: ${dayRange(shard)} (${count(shard.rows)} rows)`, { loaded, stats, model: scoringModel, shard, staging, runId }),
          { skippable: onFailure.skippable.includes('score-shard') },
        );
        if (result === SKIPPED) {
          state.status = 'skipped';
          return;
        }
        state.status = 'done';
        state.resumedFromSlice = result.resumedFromSlice;
        state.engine = result.engine;
        if (result.warning) warnings.add(result.warning);
        dayScores.push(...(result.days ?? []));
        if (result.checks) shardChecks.push(result.checks);
        progress.rowsDone += result.rows;
        ledger.book(`score-shard-${shard.index}`, result.cost, startedAt);
      } catch (err) {
        state.status = isCancellation(err) ? 'cancelled' : 'failed';
        throw err;
      }
    });

    const done = plan.shards.filter((s) => progress.shards[s.index].status === 'done');
    // The checks of every published shard as one report, and its state for the Web UI's filters (runs recorded before checks had none).
    const merged = mergeReports(shardChecks);
    const checks: ChecksReport | undefined = checksFailed ? { ...(merged ?? { checks: [] }), status: 'failed' } : merged;
    if (checks && patched('data-checks')) upsertSearchAttributes([{ key: SluiceChecks, value: checks.status }]);
    const featureDrift = dayScores.some((d) => d.featurePsi) ? Object.fromEntries([...dayScores].sort((a, b) => (a.day < b.day ? -1 : 1)).flatMap((d) => (d.featurePsi ? [[d.day, d.featurePsi]] : []))) : undefined;
    const skippedDays = plan.shards.filter((s) => progress.shards[s.index].status === 'skipped').flatMap((s) => s.days.map((d) => d.day));
    const days = done.flatMap((s) => s.days.map((d) => d.day));
    // The chart of the scores per day, from the shards' statistics.
    const writeReport = (): Promise<BatchInferenceResult['report']> => {
      const { workflowId, runId: run } = workflowInfo();
      const sorted = [...dayScores].sort((a, b) => (a.day < b.day ? -1 : 1));
      // A chart that cannot be written is noted in the result; it does not undo published scores.
      return ledger
        .measure('report', () => data.writeScoresReport({ pipeline: spec.name, workflowId, runId: run, modelVersion: model.version, days: sorted, ...referenceOf(model.metrics) }))
        .then((r) => ({ uri: r.uri, file: r.file }))
        .catch((err: unknown) => ({ error: rootMessage(err) }));
    };
    // The chart needs only the shards' statistics, so it is drawn while the sink is written. Runs recorded before
    // drew it after the staging was removed, and runs recorded before the chart existed never drew it: on replay,
    // both must find their own order (a patch is only seen where its marker was recorded, hence the nesting).
    const reporting = dayScores.length > 0 && patched('report-beside-publish') && patched('inference-scores-report') ? writeReport() : undefined;
    const published =
      days.length === 0
        ? { sink: spec.inference.sink.type, location: '(nothing published: every shard was skipped)', days: 0, rows: 0 }
        : await ledger.measure('publish', () =>
            operator.run('publish', () => {
              const summary = `publish ${days.length} days, ${count(progress.rowsDone)} rows, to the ${spec.inference?.sink.type} sink`;
              const request = { loaded, staging, runId, modelVersion: model.version, expectedRows: progress.rowsDone, days };
              // A sink that runs on the Python worker is published there (its route was resolved when the spec was loaded).
              return loaded.sink?.runtime === 'python' ? summarized(pythonSinks.publishScoresPython, summary, { ...request, modelUri: model.artifactUri }) : summarized(data.publishScores, summary, request);
            }),
          );
    await operator.run('remove-staging', () => quick.removeStaging({ staging }));
    const report = reporting ? await reporting : patched('inference-scores-report') && dayScores.length > 0 ? await writeReport() : undefined;
    setStatus('published');
    ledger.publishAttributes();
    // A memo is a command: runs recorded before it existed must not see it on replay.
    if (patched('inference-memo')) {
      upsertMemo({
        summary: `${spec.name}: ${published.rows} rows of ${scored.from}${scored.to === scored.from ? '' : ` .. ${scored.to}`} scored with v${model.version}, published to ${published.sink}${skippedDays.length > 0 ? `, ${skippedDays.length} days skipped` : ''}; ${ledger.total.cpuSeconds.toFixed(1)} s CPU`,
        modelVersion: model.version,
        rows: published.rows,
      });
    }
    return {
      pipeline: spec.name,
      from: scored.from,
      to: scored.to,
      modelVersion: model.version,
      modelUri: model.artifactUri,
      rows: published.rows,
      days: plan.days,
      shards: plan.shards.length,
      skippedDays,
      ...(plan.snapshot ? { snapshot: plan.snapshot } : {}),
      sink: { type: published.sink, location: published.location, days: published.days, rows: published.rows },
      totalCost: ledger.total,
      ledger: ledger.snapshot(),
      specChanges: specChanges.length > 0 ? specChanges : undefined,
      report,
      unseenCategories: unseenTotals(dayScores),
      scoring: { engines: [...new Set(done.flatMap((s) => progress.shards[s.index].engine ?? []))].sort(), ...(warnings.size > 0 ? { warnings: [...warnings] } : {}) },
      ...(checks ? { checks } : {}),
      ...(featureDrift ? { featureDrift } : {}),
    };
  }
}

/** The days' unseen-category counts summed per feature, or undefined when no day had one. */
function unseenTotals(days: DayScores[]): BatchInferenceResult['unseenCategories'] {
  const totals: Record<string, { rows: number; days: number }> = {};
  for (const d of days) {
    for (const [feature, rows] of Object.entries(d.unseen ?? {})) {
      const total = (totals[feature] ??= { rows: 0, days: 0 });
      total.rows += rows;
      total.days++;
    }
  }
  return Object.keys(totals).length > 0 ? totals : undefined;
}

function windowOf(input: BatchInferenceInput): { from: string; to: string } {
  const day = /^\d{4}-\d{2}-\d{2}$/;
  const from = input.partition ?? input.from;
  const to = input.partition ?? input.to ?? input.from;
  if (!from || !to || !day.test(from) || !day.test(to) || from > to) {
    throw ApplicationFailure.nonRetryable(
      'batchInference expects {"spec": "pipelines/<name>.yaml", "partition": "YYYY-MM-DD"} or {"spec": …, "from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}',
      'SluiceSpecError',
    );
  }
  return { from, to };
}

function dayRange(shard: Shard): string {
  const first = shard.days[0].day;
  const last = shard.days[shard.days.length - 1].day;
  return first === last ? first : `${first} .. ${last}`;
}

/**
 * Runs `work` on every item with at most `limit` running at once. The first failure fails the whole: the
 * items still running are cancelled (and waited for), none is started after it, and it is rethrown.
 */
async function boundedParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const scope = new CancellationScope();
  await scope.run(() =>
    Promise.all(
      Array.from({ length: Math.min(limit, items.length) }, async () => {
        try {
          while (next < items.length && !failure) await work(items[next++]);
        } catch (error) {
          if (!failure) {
            failure = { error };
            scope.cancel();
          }
        }
      }),
    ),
  );
  if (failure) throw failure.error;
}

/** What a scores chart measures drift against: a classifier's calibration table, a regression's rows per validation decile, a multiclass model's validation rows per predicted class. */
function referenceOf(metrics: ModelMetrics | undefined): { calibration?: CalibrationBin[]; decileRows?: number[]; classRows?: number[] } {
  if (!metrics) return {};
  if (!('task' in metrics)) return { calibration: metrics.calibration };
  return metrics.task === 'regression' ? { decileRows: metrics.decileRows } : { classRows: metrics.perClass.map((c) => c.predicted) };
}
