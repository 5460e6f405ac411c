"""Hyper-parameter search on the Python worker, in ask-and-tell form: the workflow owns the study. It passes the
trials that have finished (and those still running) to `suggest`, which rebuilds an Optuna study from them and
asks for the next configuration; a `trial` fits one configuration on the training window's fit rows and scores it
on the holdout days (never the validation window). Nothing is kept between calls, so every suggestion is in the
run's history and a search resumes wherever the workflow does. A trial's holdout-loss curve stays in its
content-addressed record (`trial.json`); the workflow passes its address, never the curve, so a long search's
history stays small."""

from __future__ import annotations

import json
import math
import resource
import time
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from .artifacts import ArtifactStore, fingerprint_of
from .training import WORKER_IDENTITY, Hooks, TrainingError, job_of

optuna.logging.set_verbosity(optuna.logging.WARNING)

#: Trials before TPE models the space (random until then), and before the median pruner prunes anything.
STARTUP_TRIALS = 5
#: Rounds a trial boosts before the median pruner may stop it.
WARMUP_ROUNDS = 20

_STATES = {"complete": TrialState.COMPLETE, "pruned": TrialState.PRUNED, "failed": TrialState.FAIL}


class Pruned(Exception):
    """The trial's intermediate holdout loss is worse than the median of the finished trials' at the same round."""


def distributions(space: dict[str, dict[str, Any]]) -> dict[str, BaseDistribution]:
    """The spec's `tune.space` as Optuna distributions (the loader has checked the ranges)."""
    found: dict[str, BaseDistribution] = {}
    for name, found_range in space.items():
        if "float" in found_range:
            low, high = found_range["float"]
            found[name] = FloatDistribution(float(low), float(high), log=bool(found_range.get("log")))
        elif "int" in found_range:
            low, high = found_range["int"]
            found[name] = IntDistribution(int(low), int(high), log=bool(found_range.get("log")))
        else:
            found[name] = CategoricalDistribution(found_range["choice"])
    return found


def curve_of(store: ArtifactStore, uri: str) -> dict[int, float]:
    """A finished trial's holdout loss by round, from its record."""
    record = json.loads(store.fetch(uri).read_text())
    return {int(step): float(loss) for step, loss in record.get("intermediate") or []}


def study_of(store: ArtifactStore, request: dict[str, Any]) -> tuple[optuna.Study, dict[str, BaseDistribution]]:
    """A study rebuilt from the finished and running trials of the request. The sampler is seeded by the spec's
    seed and the number of trials so far, so the same history always asks the same next trial."""
    dists = distributions(request["space"])
    seed = int(request["seed"]) + len(request["finished"]) + len(request["running"])
    if request["sampler"] == "random":
        sampler: optuna.samplers.BaseSampler = optuna.samplers.RandomSampler(seed=seed)
    else:
        # constant_liar: a trial still running counts as a bad one, so parallel trials do not all ask the same region.
        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=STARTUP_TRIALS, constant_liar=True, multivariate=True)
    study = optuna.create_study(direction="maximize" if request["metric"] == "auc" else "minimize", sampler=sampler)  # the others are losses
    for trial in request["finished"]:
        params = {k: v for k, v in trial["params"].items() if k in dists}
        state = _STATES[trial["state"]]
        study.add_trial(
            create_trial(
                params=params,
                distributions={k: dists[k] for k in params},
                state=state,
                value=trial["value"] if state == TrialState.COMPLETE else None,
                # A pruned trial's curve: TPE weighs it by how far it got.
                intermediate_values=curve_of(store, trial["uri"]) if state == TrialState.PRUNED and trial.get("uri") else {},
            )
        )
    for params in request["running"]:
        kept = {k: v for k, v in params.items() if k in dists}
        study.add_trial(create_trial(params=kept, distributions={k: dists[k] for k in kept}, state=TrialState.RUNNING))
    return study, dists


def suggest(store: ArtifactStore, request: dict[str, Any]) -> dict[str, Any]:
    """The next trial's parameters: `{params, cost}`."""
    started, cpu_started = time.perf_counter(), time.process_time()
    study, dists = study_of(store, request)
    params = study.ask(dists).params
    return {"params": {k: (int(v) if isinstance(dists[k], IntDistribution) else v) for k, v in params.items()}, "cost": cost_since(started, cpu_started, 0, 0, 0)}


class MedianPruning:
    """Optuna's MedianPruner over the holdout loss the trial reports at its checkpoints, against the finished
    trials' losses at the same rounds (lower is better)."""

    def __init__(self, curves: list[dict[int, float]]) -> None:
        self.pruner = optuna.pruners.MedianPruner(n_startup_trials=STARTUP_TRIALS, n_warmup_steps=WARMUP_ROUNDS)
        self.study = optuna.create_study(direction="minimize")
        dummy = {"_": FloatDistribution(0, 1)}
        for curve in curves:
            if curve:
                self.study.add_trial(create_trial(params={"_": 0.5}, distributions=dummy, value=min(curve.values()), intermediate_values=curve))
        self.curve: dict[int, float] = {}

    def report(self, step: int, loss: float) -> None:
        """Records the loss at `step`; raises Pruned when the median rule says stop."""
        self.curve[step] = loss
        running = create_trial(params={"_": 0.5}, distributions={"_": FloatDistribution(0, 1)}, state=TrialState.RUNNING, intermediate_values=dict(self.curve))
        if self.pruner.prune(self.study, running):
            raise Pruned(f"pruned at round {step}: holdout loss {loss:.5f} is worse than the median of the finished trials")


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC by the rank-sum formula, ties averaged (the Mann-Whitney U statistic)."""
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score), dtype=np.float64)
    sorted_scores = score[order]
    # Average ranks over runs of equal scores.
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], len(score)]
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + end + 1) / 2.0
    positives = float(np.sum(y == 1))
    negatives = float(len(y) - positives)
    if positives == 0 or negatives == 0:
        return float("nan")
    return float((np.sum(ranks[y == 1]) - positives * (positives + 1) / 2) / (positives * negatives))


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    q = np.clip(p.astype(np.float64), 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def trial(store: ArtifactStore, request: dict[str, Any], plugin: Any, hooks: Hooks) -> dict[str, Any]:
    """Fits one configuration (`request["params"]` over the spec's trainer settings, no refit) on the fit rows,
    with early stopping on the holdout days, and scores it there. Content-addressed by the features, the trainer
    settings and (with pruning) the finished trials it is compared with (`pruning.finished`: their records'
    addresses): an identical trial is reused, and an attempt that dies resumes from the trial's checkpoint.
    Returns `{trial, reused, cost}`; the trial's holdout-loss curve is in its record (`trial.uri`)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    loaded, features = request["loaded"], request["features"]
    spec = loaded["spec"]
    params = {**spec["trainer"], **request["params"], "refit": False}
    pruning = request.get("pruning")
    reference = json.dumps(sorted(pruning["finished"]), separators=(",", ":")) if pruning else ""
    fingerprint = fingerprint_of("trial", plugin.TRAINER, plugin.VERSION, features["fingerprint"], json.dumps(params, separators=(",", ":"), sort_keys=True), reference)
    rows_in = 0

    def build(staging: Any, uri_of: Any) -> dict[str, Any]:
        nonlocal rows_in
        pruner = MedianPruning([curve_of(store, uri) for uri in pruning["finished"]]) if pruning else None
        job = job_of(store, request, plugin, params, fingerprint, hooks, export=False, report=pruner.report if pruner else None)
        x, y, holdout_rows = job.x, job.y, job.holdout_rows
        rows_in = len(y)
        record: dict[str, Any]
        try:
            fitted = plugin.fit(job)
            held_y, scores = y[holdout_rows], np.asarray(fitted.predict(x[holdout_rows]), dtype=np.float64)
            if job.task == "regression":
                errors = scores - held_y.astype(np.float64)
                holdout = {"rmse": float(np.sqrt(np.mean(errors**2))), "mae": float(np.mean(np.abs(errors)))}
            elif job.task == "multiclass":  # scores: [rows, classes]; a row's label is its class code
                chosen = scores[np.arange(len(held_y)), held_y.astype(np.int64)]
                holdout = {"logLoss": float(-np.mean(np.log(np.clip(chosen, 1e-15, 1 - 1e-15))))}
            else:
                holdout = {"auc": auc(held_y, scores), "logLoss": log_loss(held_y, scores)}
                if not all(math.isfinite(v) for v in holdout.values()):
                    raise TrainingError(f"tune: the holdout days have a single class ({int(held_y.sum())} positives of {len(held_y)}); the metric is undefined")
            value = holdout["logLoss" if request["metric"] == "log_loss" else request["metric"]]
            training = fitted.training
            record = {
                "state": "complete", "value": value, "holdout": holdout, "bestIteration": training["bestIteration"], "iterations": training["iterations"], "resumedFrom": training["resumedFrom"],
                # What the final train step's refit starts from when this trial is the best.
                "searched": {k: training[k] for k in ("iterations", "bestIteration", "trainLoss", "validationLoss", "stopReason")},
            }
        except Pruned as err:
            record = {"state": "pruned", "reason": str(err), "iterations": max(pruner.curve) if pruner and pruner.curve else 0}
        record["intermediate"] = sorted([step, loss] for step, loss in (pruner.curve if pruner else job.curve).items())
        text = json.dumps(record)
        (staging / "trial.json").write_text(text)
        for leftover in job.checkpoints:
            store.discard(leftover)
        return {"uri": uri_of("trial.json"), "fingerprint": fingerprint, "bytes": len(text), **{k: v for k, v in record.items() if k != "intermediate"}}

    value, reused = store.reuse_or_build("trials", fingerprint, build)
    return {"trial": value, "reused": reused, "cost": cost_since(started, cpu_started, rows_in, features["train"]["bytes"], 0)}


def cost_since(started: float, cpu_started: float, rows_in: int, bytes_in: int, bytes_out: int) -> dict[str, Any]:
    return {
        "wallSeconds": time.perf_counter() - started,
        "cpuSeconds": time.process_time() - cpu_started,
        "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "worker": WORKER_IDENTITY,
        "rowsIn": rows_in,
        "rowsOut": 0,
        "bytesIn": bytes_in,
        "bytesOut": bytes_out,
    }
