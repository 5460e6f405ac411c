import {
  ApplicationFailure,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { dataParallelFit } from './data-parallel';
import { legacyRoute } from '../contracts/plugins';
import { STALE_DECISION, type ModelVersion } from '../contracts/registry';
import { baselineOf, decidePromotion, type PromotionDecision } from '../contracts/promotion';
import { SluiceChecks, SluiceModelVersion, SluicePipeline, SluiceStatus } from '../contracts/search-attributes';
import { isChecksFailure, stateCounts, type ChecksReport } from '../contracts/checks';
import { activitiesFor, count, onFailureOf, quick as beforeSpec, summarized } from './activity-proxies';
import { budgetOf, BUDGET_EXCEEDED } from '../contracts/budget';
import { zeroCost, type StepCost } from '../contracts/costs';
import type { CostLedger } from '../contracts/ledger';
import { Ledger } from './ledger';
import { Operator, RestartWith, SKIPPED, type AwaitingStep, type OperatorLogEntry } from './operator';
import { rootMessage } from '../contracts/root-cause';
import { inputsOf, runWithSpecFixes, StepMemo } from './spec-reload';
import { stopTuningUpdate, tuneDetail, tuneSearch, type TuneState } from './tune';
import { searchDetails, type TuneSummary } from '../contracts/tuning';
import type { ModelMetrics } from '../contracts/metrics';
import { headline, metricValue, taskOf } from '../contracts/metric-values';
import { PRIMARY_METRIC } from '../contracts/tasks';
import type { ColumnInfo, FeatureSet, ModelArtifact, ExternalModel } from '../contracts/artifacts';
import type { TrainOutput } from '../activities/train/trainer';
import type { LoadedSpec, SpecChange } from '../contracts/spec';

export interface TrainPipelineInput {
  /** Path of the pipeline spec, as the worker sees it (relative to the worker's directory). */
  spec: string;
  /**
   * A model trained elsewhere, registered in place of training one (`sluice models register`): the train step
   * imports it, and it is evaluated, gated, compared with the champion and promoted like a trained model.
   */
  externalModel?: ExternalModel;
}

export type StepName = 'load-spec' | 'extract' | 'features' | 'checks' | 'tune' | 'train' | 'evaluate' | 'evaluate-champion' | 'register' | 'promote';
export type StepStatus = 'pending' | 'running' | 'done' | 'reused' | 'skipped' | 'failed';

export interface StepState {
  name: StepName;
  status: StepStatus;
  detail?: string;
  cost?: StepCost;
}

/** What `progress` answers while the run goes on. */
export interface TrainProgress {
  pipeline?: string;
  status: string;
  steps: StepState[];
  /** Set while a manual promotion waits for a decision. */
  awaiting?: string;
  /** Steps that failed and wait for an operator's retry / abort. */
  awaitingOperator?: AwaitingStep[];
  operatorLog?: OperatorLogEntry[];
  /** Fixed specs read on an operator's retry: the run went on from the first step whose inputs changed. */
  specChanges?: SpecChange[];
  /** The `tune:` search: its trials so far, the best, and the trials running now. */
  tuning?: TuneSummary & { running: TuneState['running'] };
}

export interface TrainPipelineResult {
  pipeline: string;
  specHash: string;
  modelVersion: number;
  modelUri: string;
  metrics: ModelMetrics;
  champion?: { version: number; metrics: ModelMetrics };
  promoted: boolean;
  decision: PromotionDecision & { mode: 'auto' | 'manual'; outcome: string };
  steps: StepState[];
  totalCost: StepCost;
  /** Every step's cost, with times and the budget (absent in runs recorded before ledgers). */
  ledger?: CostLedger;
  /** The HTML run report with its charts (absent in runs recorded before reports). */
  report?: { uri: string; file: string } | { error: string };
  /** Fixed specs read on an operator's retry (absent when the spec never changed). */
  specChanges?: SpecChange[];
  /** The `tune:` search the trained configuration came from (absent without `tune:`). */
  tuning?: TuneSummary;
  /** What the spec's data checks observed on the run's rows (absent without `checks:`; `skipped` by an operator after they failed). */
  checks?: ChecksReport | { status: 'skipped' };
}

/** A reviewer's answer to a manual promotion. */
export interface ApprovalDecision {
  actor: string;
  reason?: string;
}

export const approveSignal = defineSignal<[ApprovalDecision]>('approve');
export const rejectSignal = defineSignal<[ApprovalDecision]>('reject');
/** The same decisions as updates: refused at once, with the reason, when no approval is awaited. */
export const approveUpdate = defineUpdate<string, [ApprovalDecision]>('approve');
export const rejectUpdate = defineUpdate<string, [ApprovalDecision]>('reject');
export const progressQuery = defineQuery<TrainProgress>('progress');



/**
 * Trains a model from a pipeline spec: extract → features → train → evaluate (and the champion on the
 * same data) → register → validate gates → promote. Activities exchange artifact references only.
 * In manual promotion mode the run waits, visibly (`SluiceStatus=awaiting-approval`), for an
 * `approve` or `reject` signal until the spec's approval timeout.
 */
export async function trainPipeline(input: TrainPipelineInput): Promise<TrainPipelineResult> {
  checkInput(input);
  const names: StepName[] = ['load-spec', 'extract', 'features', 'train', 'evaluate', 'evaluate-champion', 'register', 'promote'];
  const progress: TrainProgress = { status: 'running', steps: names.map((name) => ({ name, status: 'pending' })) };
  let waitForOperator = false;
  const operator = new Operator(
    () => waitForOperator,
    (awaiting) => setStatus(awaiting ? 'awaiting-operator' : 'running'),
  );
  const specChanges: SpecChange[] = [];
  setHandler(progressQuery, () => ({
    ...progress,
    steps: progress.steps.map((s) => awaitingState(s, operator.awaiting)),
    awaitingOperator: operator.awaiting,
    operatorLog: operator.log,
    specChanges: specChanges.length > 0 ? specChanges : undefined,
    tuning: tuneState.summary ? { ...tuneState.summary, running: tuneState.running } : undefined,
  }));
  const tuneState: TuneState = { running: [] };
  setHandler(
    stopTuningUpdate,
    ({ actor }) => {
      tuneState.stoppedBy = actor;
      return `the search starts no further trial; it goes on with the best of ${tuneState.summary?.trials.length ?? 0} finished trials once the ${tuneState.running.length} running ones end`;
    },
    {
      validator: ({ actor }) => {
        if (!tuneState.summary || progress.steps.find((s) => s.name === 'tune')?.status !== 'running') throw new Error(`${workflowInfo().workflowId} runs no search now (status: ${progress.status})`);
        if (tuneState.stoppedBy) throw new Error(`the search was already stopped by ${tuneState.stoppedBy}`);
        if (!actor) throw new Error('a stop needs an actor, for the audit log');
      },
    },
  );
  let approval: { approved: boolean; decision: ApprovalDecision } | undefined;
  setHandler(approveSignal, (decision) => void (approval ??= { approved: true, decision }));
  setHandler(rejectSignal, (decision) => void (approval ??= { approved: false, decision }));
  const validateApproval = (decision: ApprovalDecision) => {
    if (progress.awaiting === undefined) throw new Error(`${workflowInfo().workflowId} awaits no approval (status: ${progress.status})`);
    if (approval !== undefined) throw new Error(`${workflowInfo().workflowId} was already ${approval.approved ? 'approved' : 'rejected'} by ${approval.decision.actor}`);
    if (!decision?.actor) throw new Error('a decision needs an actor, for the audit log');
  };
  for (const [update, approved] of [
    [approveUpdate, true],
    [rejectUpdate, false],
  ] as const) {
    setHandler(
      update,
      (decision) => {
        approval ??= { approved, decision };
        return `${approved ? 'approved' : 'rejected'} by ${decision.actor}`;
      },
      { validator: validateApproval },
    );
  }

  const setStatus = (status: string) => {
    progress.status = status;
    upsertSearchAttributes([{ key: SluiceStatus, value: status }]);
  };
  const ledger = new Ledger();
  operator.onFailure = (step, err) => {
    ledger.bookFailure(step, err);
    // A failed data check shows in the Web UI's filters (SluiceChecks="failed") while the run waits or after it failed.
    if (isChecksFailure(rootMessage(err))) upsertSearchAttributes([{ key: SluiceChecks, value: 'failed' }]);
  };
  /** Results of completed steps by the inputs they ran on: after a spec fix restarts the steps, unchanged ones are not run again. */
  const completed = new StepMemo();
  /**
   * Runs a step unless the budget is spent; books its cost in the ledger. With `inputs` (what the step's
   * result depends on), a step that already ran on the same inputs returns that result without an activity.
   */
  async function step<T extends { cost: StepCost; reused?: boolean }>(name: StepName, run: () => Promise<T>, detail?: (r: T) => string, inputs?: string): Promise<T> {
    const state = progress.steps.find((s) => s.name === name) as StepState;
    const prior = completed.get<T>(name, inputs);
    if (prior !== undefined) return prior;
    try {
      const result = await ledger.measure(name, () => {
        state.status = 'running';
        return operator.run(name, run);
      });
      state.status = result.reused ? 'reused' : 'done';
      state.cost = result.cost;
      state.detail = detail?.(result);
      completed.set(name, inputs, result);
      return result;
    } catch (err) {
      if (err instanceof RestartWith) throw err;
      if (isCancellation(err)) {
        state.status = 'failed';
        setStatus('cancelled');
        throw err;
      }
      const overBudget = ledger.stoppedBy !== undefined || (err as { cause?: { type?: string } }).cause?.type === BUDGET_EXCEEDED;
      state.status = overBudget && state.status === 'pending' ? 'skipped' : 'failed';
      setStatus(overBudget ? 'over-budget' : 'failed');
      if (overBudget) ledger.publishAttributes();
      throw err;
    }
  }

  const loaded: LoadedSpec = await step('load-spec', async () => ({ ...(await beforeSpec.loadSpec({ spec: input.spec })), cost: zeroCost() }));
  return runWithSpecFixes(operator, input.spec, loaded, specChanges, runSteps);

  /** Every step after loading the spec, on `loaded`. */
  async function runSteps(loaded: LoadedSpec): Promise<TrainPipelineResult> {
    const { spec } = loaded;
    const external = input.externalModel;
    // Runs recorded before trainer routes were resolved at load carry none: the routes of that time.
    const route = loaded.trainer ?? legacyRoute(spec.trainer);
    waitForOperator = onFailureOf(spec).wait_for_operator;
    operator.waitTimeout = onFailureOf(spec).wait_timeout;
    progress.pipeline = spec.name;
    ledger.pipeline = spec.name;
    ledger.budget = budgetOf(spec);
    const { quick, data, training, python } = activitiesFor(spec);
    upsertSearchAttributes([
      { key: SluicePipeline, value: spec.name },
      { key: SluiceStatus, value: 'running' },
    ]);

    // What the Web UI shows as the run's details, the model version once it is registered.
    const details = (version?: number) =>
      setCurrentDetails(
        [`**Pipeline** ${spec.name} (${loaded.file})`, `**Training window** ${spec.split.train.from} .. ${spec.split.train.to}`, `**Validation window** ${spec.split.validate.from} .. ${spec.split.validate.to}`, external ? `**Model** ${external.file}, trained elsewhere` : `**Trainer** ${spec.trainer.type}`, ...(version ? [`**Model version** v${version}`] : []), ...(tuneState.summary ? [searchDetails(tuneState.summary, tuneState.running)] : [])].join('\n\n'),
      );
    details();
    const window = { from: spec.split.train.from, to: spec.split.validate.to };
    // What each step's result depends on (besides the content-addressed inputs it is handed): `inputsOf(…)`.
    const { extracted } = await step('extract', () => summarized(data.extract, `extract ${spec.name}: ${window.from} .. ${window.to}${spec.features.lookback ? ` and ${spec.features.lookback} before` : ''}`, { loaded, window }), (r) => `${r.extracted.rows} rows`, inputsOf(spec.sources, spec.extract, window, spec.features.lookback, spec.label.horizon));
    ledger.rows = extracted.rows;
    const { features } = await step('features', () => summarized(data.buildFeatures, `features from ${count(extracted.rows)} extracted rows`, { loaded, extracted }), (r) => featuresDetail(r.features), inputsOf(extracted.fingerprint, spec.sources, spec.label, spec.features, spec.split));
    // The spec's data checks, before anything is trained (runs recorded before checks existed had none to run).
    let checks: TrainPipelineResult['checks'];
    if (Object.keys(spec.checks ?? {}).length > 0 && patched('data-checks')) {
      if (!progress.steps.some((s) => s.name === 'checks')) progress.steps.splice(progress.steps.findIndex((s) => s.name === 'features') + 1, 0, { name: 'checks', status: 'pending' });
      const state = progress.steps.find((s) => s.name === 'checks') as StepState;
      state.status = 'running';
      const summary = `check ${Object.keys(spec.checks ?? {}).length} data checks on ${count(extracted.rows)} rows`;
      ledger.check('checks');
      const startedAt = new Date().toISOString();
      const result = await operator
        .step('checks', () => summarized(data.checkData, summary, { loaded, extracted, features, runId: workflowInfo().runId }), { skippable: onFailureOf(spec).skippable.includes('checks') })
        .catch((err: unknown) => {
          if (!(err instanceof RestartWith)) state.status = 'failed';
          throw err;
        });
      if (result !== SKIPPED) ledger.book('checks', result.cost, startedAt);
      if (result === SKIPPED) {
        checks = { status: 'skipped' };
        state.status = 'skipped';
        state.detail = 'failed, skipped by an operator';
      } else {
        checks = result.checks;
        state.status = 'done';
        state.cost = result.cost;
        state.detail = stateCounts(result.checks);
        upsertSearchAttributes([{ key: SluiceChecks, value: result.checks.status }]);
      }
    }
    // With `tune:`, a search picks the trainer's settings first; the train step then trains the best configuration.
    let tuning: TuneSummary | undefined;
    let trainAs = loaded;
    if (spec.tune && !external) {
      if (!progress.steps.some((s) => s.name === 'tune')) progress.steps.splice(progress.steps.findIndex((s) => s.name === 'train'), 0, { name: 'tune', status: 'pending' });
      tuning = await step('tune', () => tuneSearch(loaded, features, ledger, tuneState, () => details()), tuneDetail, inputsOf(features.fingerprint, spec.trainer, spec.tune, spec.budget));
      const best = tuning.best as NonNullable<TuneSummary['best']>;
      trainAs = { ...loaded, spec: { ...spec, trainer: { ...spec.trainer, ...best.params } } };
    }
    const trained = await step<TrainOutput & { featureTypes?: ColumnInfo[] }>(
      'train',
      // The trainer's route says where it runs; a model trained elsewhere is imported instead.
      () => {
        if (external) return summarized(data.importModel, `import ${external.file}, a model trained elsewhere`, { loaded, features, model: external });
        const summary = `train ${spec.trainer.type}: ${count(features.train.rows)} rows × ${features.featureColumns.length} features`;
        // Where the trainer runs, from its descriptor: the Python worker's queue, a data-parallel fit, or this worker.
        if (route.runtime === 'python') return summarized(loaded.trainer ? python.trainPython : python.trainLightgbm, tuning ? `${summary}, the best of ${tuning.trials.length} trials` : summary, { loaded: trainAs, features, ...(tuning?.best?.searched ? { searched: tuning.best.searched } : {}) });
        if (route.dataParallel && features.train.rows > route.dataParallel.aboveRows) return dataParallelFit(route.dataParallel.workflowType)(spec, loaded, features, summary);
        return summarized(training.train, summary, { loaded, features });
      },
      (r) => (external ? `imported ${external.file}, ${r.model.featureNames.length} features` : trainDetail(route.progressUnit, r.model.training)),
      inputsOf(features.fingerprint, trainAs.spec.trainer, spec.budget, external),
    );
    const { model } = trained;
    // A yes/no pipeline's evaluation input is the one it had before tasks (so its recorded steps are reused on a retry).
    const task = spec.task ?? 'binary';
    const evaluation = {
      dataset: features.validate,
      label: features.label,
      threshold: spec.evaluation.threshold,
      calibrationBins: spec.evaluation.calibration_bins,
      ...(task === 'binary' ? {} : { task, trainingMean: features.positiveRate }),
      // Residuals by day; a hash split's days are hash buckets, not days.
      ...(task === 'regression' && !('hash' in spec.split) ? { timeColumn: spec.extract.time_column } : {}),
      ...(features.classes ? { classShares: features.classes.map((c) => c.rows / features.train.rows) } : {}),
      ...(spec.evaluation.importance ? { importance: spec.evaluation.importance } : {}),
    };
    // Under a CPU budget, permutation importance may take a third of what is left (register and the report follow).
    const cpuLimit = spec.budget?.max_cpu_seconds;
    const allowance = cpuLimit === undefined ? {} : { importanceCpuSeconds: Math.max(0, (cpuLimit - ledger.total.cpuSeconds) / 3) };
    const { metrics, roc } = await step('evaluate', () => summarized(data.evaluate, `evaluate on ${count(features.validate.rows)} validation rows`, { modelUri: model.uri, ...evaluation, ...allowance }), (r) => headline(r.metrics), inputsOf(model.uri, evaluation));

    // The champion alone, not the whole registry (runs recorded before read the whole registry into their history).
    let championVersion: ModelVersion | undefined;
    if (patched('narrow-registry-read')) {
      championVersion = (await operator.run('read-registry', () => quick.readChampion({ model: spec.name })))?.champion;
    } else {
      const registry = await operator.run('read-registry', () => quick.readRegistry({ model: spec.name }));
      championVersion = registry?.versions.find((v) => v.version === registry.aliases.champion);
    }
    // Promotion is a compare-and-set on the champion this candidate was compared with.
    const expected = championVersion?.version ?? null;
    let champion: TrainPipelineResult['champion'];
    let championRoc: Array<[number, number]> | undefined;
    if (championVersion?.modelFingerprint === model.fingerprint) {
      // The champion is this very model (an unchanged rerun): same file, same data, same metrics.
      champion = { version: championVersion.version, metrics };
      skip(progress, 'evaluate-champion', `champion v${championVersion.version} is this model`);
    } else if (championVersion && sameFeatures(championVersion, model.featureNames)) {
      const result = await step('evaluate-champion', () => summarized(data.evaluate, `evaluate champion v${championVersion.version} on the same rows`, { modelUri: championVersion.artifactUri, ...evaluation, importance: { rows: 0 } }), (r) => `v${championVersion.version} ${headline(r.metrics)}`);
      champion = { version: championVersion.version, metrics: result.metrics };
      championRoc = result.roc;
    } else {
      skip(progress, 'evaluate-champion', championVersion ? `champion v${championVersion.version} uses other features` : 'no champion');
    }

    const info = workflowInfo();
    const version = await step('register', async () => ({
      ...(await quick.registerModelVersion({
        model: spec.name,
        entry: {
          trainingWorkflowId: info.workflowId,
          trainingRunId: info.runId,
          specHash: loaded.hash,
          dataFingerprints: { extract: extracted.fingerprint, features: features.fingerprint, ...(loaded.code ? { code: loaded.code.sha256 } : {}) },
          artifactUri: model.uri,
          modelFingerprint: model.fingerprint,
          featureNames: model.featureNames,
          // An imported model's input schema is the one its import matched to the feature SQL.
          featureTypes: trained.featureTypes ?? features.featureColumns,
          origin: external ? 'external' : 'trained',
          ...(external?.description ? { description: external.description } : {}),
          trainingWindow: `${spec.split.train.from}..${spec.split.train.to}`,
          metrics,
        },
      })),
      cost: zeroCost(),
    }), (v) => `version ${v.version}`);
    upsertSearchAttributes([{ key: SluiceModelVersion, value: version.version }]);
    details(version.version);

    // Specs recorded before the baseline gate have no `beat_baseline`: off for them, as they were decided.
    const decision = decidePromotion(metrics, spec.gates, spec.promotion.tolerance, champion, 'task' in metrics ? undefined : baselineOf(features.positiveRate, metrics.positiveRate), spec.promotion.metric);
    const mode = spec.promotion.mode;
    let outcome: string;
    let promoted = false;
    const alreadyChampion = championVersion?.version === version.version;
    /** Sets the champion unless it moved since the comparison: then the stale decision's reason, and nothing changed. */
    const promoteToChampion = async (actor: string, reason: string): Promise<string | undefined> => {
      const request = { alias: 'champion' as const, version: version.version, actor, reason, expected };
      try {
        await operator.run('promote', () => quick.setModelAlias({ model: spec.name, request }));
        return undefined;
      } catch (err) {
        const cause = (err as { cause?: { type?: string; message?: string } }).cause;
        if (cause?.type !== STALE_DECISION) throw err;
        return cause.message ?? 'the champion changed';
      }
    };
    const promoteState = progress.steps.find((s) => s.name === 'promote') as StepState;
    promoteState.status = 'running';
    if (alreadyChampion) {
      outcome = `version ${version.version} is already the champion`;
      promoted = true;
    } else if (!decision.eligible) {
      outcome = 'not promoted: a check failed';
    } else if (mode === 'auto') {
      const stale = await promoteToChampion(`workflow:${info.workflowId}`, decision.reasons.join('; '));
      promoted = stale === undefined;
      outcome = stale ? `not promoted: stale decision (${stale})` : `promoted to champion automatically${champion ? `, replacing v${champion.version}` : ''}`;
    } else {
      const request = { alias: 'challenger' as const, version: version.version, actor: `workflow:${info.workflowId}`, reason: 'eligible, awaiting manual approval' };
      await operator.run('promote', () => quick.setModelAlias({ model: spec.name, request }));
      progress.awaiting = `approval of ${spec.name} v${version.version}: signal approve or reject within ${spec.promotion.approval_timeout}`;
      setStatus('awaiting-approval');
      const answered = await condition(() => approval !== undefined, spec.promotion.approval_timeout as Duration);
      progress.awaiting = undefined;
      setStatus('running');
      if (!answered || !approval) {
        outcome = `not promoted: no decision within ${spec.promotion.approval_timeout}; v${version.version} stays challenger`;
      } else if (approval.approved) {
        const stale = await promoteToChampion(approval.decision.actor, approval.decision.reason || 'approved');
        promoted = stale === undefined;
        outcome = stale ? `not promoted: the approval by ${approval.decision.actor} is stale (${stale})` : `promoted to champion, approved by ${approval.decision.actor}`;
      } else {
        outcome = `not promoted: rejected by ${approval.decision.actor}${approval.decision.reason ? ` (${approval.decision.reason})` : ''}`;
      }
    }
    promoteState.status = 'done';
    promoteState.detail = outcome;

    // The report is a new activity: runs recorded before it existed must not schedule it on replay.
    let report: TrainPipelineResult['report'];
    if (patched('run-report')) {
      const reportInput = {
        pipeline: spec.name,
        workflowId: info.workflowId,
        runId: info.runId,
        modelVersion: version.version,
        modelUri: model.uri,
        metrics,
        champion,
        ...(task === 'binary' ? {} : { label: spec.label.name }),
        decision: { outcome, reasons: decision.reasons },
        roc: { candidate: roc, champion: championRoc },
        ledger: ledger.snapshot(),
        specChanges: specChanges.length > 0 ? specChanges : undefined,
        ...(tuning ? { tuning } : {}),
      };
      // A report that cannot be written is noted in the result; it does not undo a trained, promoted model.
      report = await ledger.measure('report', () => data.writeRunReport(reportInput)).catch((err: unknown) => ({ error: rootMessage(err) }));
    }
    setStatus(promoted ? 'promoted' : 'not-promoted');

    const totalCost = ledger.total;
    ledger.publishAttributes();
    // A memo is a command in the history: runs recorded before it existed must not see it on replay.
    if (patched('memo-run-summary')) {
      const primary = PRIMARY_METRIC[taskOf(metrics)];
      const quality = 'task' in metrics ? headline(metrics) : `AUC ${metrics.auc.toFixed(4)}, log loss ${metrics.logLoss.toFixed(4)}`;
      upsertMemo({
        summary: `${spec.name} v${version.version}: ${quality}, ${promoted ? 'promoted' : 'not promoted'}; ${totalCost.cpuSeconds.toFixed(1)} s CPU`,
        modelVersion: version.version,
        [primary]: metricValue(metrics, primary),
        promoted,
      });
    }

    return {
      pipeline: spec.name,
      specHash: loaded.hash,
      modelVersion: version.version,
      modelUri: model.uri,
      metrics,
      champion,
      promoted,
      decision: { ...decision, mode, outcome },
      steps: progress.steps,
      totalCost,
      ledger: ledger.snapshot(),
      report: report && ('error' in report ? report : { uri: report.uri, file: report.file }),
      specChanges: specChanges.length > 0 ? specChanges : undefined,
      ...(tuning ? { tuning } : {}),
      ...(checks ? { checks } : {}),
    };
  }
}

function sameFeatures(version: ModelVersion, featureNames: string[]): boolean {
  return version.featureNames.length === featureNames.length && version.featureNames.every((n, i) => n === featureNames[i]);
}

/** A step that failed and waits for an operator shows as failed, with the error, never as running. */
function awaitingState(state: StepState, awaiting: AwaitingStep[]): StepState {
  const waiting = awaiting.find((a) => a.step === state.name);
  return waiting ? { ...state, status: 'failed', detail: `awaiting an operator (retry, skip or abort): ${waiting.error}` } : state;
}

function skip(progress: TrainProgress, name: StepName, detail: string): void {
  const state = progress.steps.find((s) => s.name === name) as StepState;
  state.status = 'skipped';
  state.detail = detail;
}

/** Refuses an input that is not `{ spec: string }` with a message that shows the expected form. */
export function checkInput(input: unknown): asserts input is TrainPipelineInput {
  if (typeof input !== 'object' || input === null || typeof (input as { spec?: unknown }).spec !== 'string') {
    throw ApplicationFailure.nonRetryable('trainPipeline expects {"spec": "pipelines/<name>.yaml"}', 'SluiceSpecError');
  }
  const external = (input as { externalModel?: Partial<ExternalModel> }).externalModel;
  if (external !== undefined && (typeof external?.uri !== 'string' || typeof external.file !== 'string' || !(external.features === undefined || Array.isArray(external.features)))) {
    throw ApplicationFailure.nonRetryable('trainPipeline: externalModel expects {"uri": "artifact:uploads/…", "file": "model.onnx", "features"?: [{"name": …}]} (sluice models register makes it)', 'SluiceSpecError');
  }
}

/** The features step in one line; rows a label horizon left out are counted, never silently missing. */
function featuresDetail(features: FeatureSet): string {
  const dropped = (features.horizonDropped?.train ?? 0) + (features.horizonDropped?.validate ?? 0);
  const horizon = dropped > 0 ? `, ${dropped} dropped (label horizon past the end of the data)` : '';
  return `${features.train.rows} train / ${features.validate.rows} validation rows, ${features.featureColumns.length} features${horizon}`;
}

/**
 * The train step's line: "150 rounds, early-stopped, refit 120 on the whole window in 30.2 s, resumed after round 40" (boosting
 * counts rounds, Newton iterations; the refit trains the rounds early stopping chose on every training day).
 */
function trainDetail(unit: 'round' | 'iteration', training: ModelArtifact['training']): string {
  const took = training.refitSeconds !== undefined ? ` in ${training.refitSeconds.toFixed(1)} s` : '';
  const refit = training.refit ? `, refit ${training.bestIteration}${training.searched ? " (the search's best trial's rounds)" : ''} on the whole window${took}` : '';
  const resumed = training.resumedFrom > 0 ? `, resumed after ${unit} ${training.resumedFrom}` : '';
  return `${training.iterations} ${unit}s, ${training.stopReason}${refit}${resumed}`;
}
