"""LightGBM as a Sluice trainer: the same inputs (a content-addressed feature set) and the same output
(one self-contained ONNX model with Sluice's metadata, published atomically) as the logistic trainer."""

from __future__ import annotations

import json
import math
import resource
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import lightgbm as lgb
import numpy as np
import onnx
import onnxruntime as ort
import pyarrow.parquet as pq
import pyarrow.types as pat
from onnxmltools import convert_lightgbm
from onnxmltools.convert.common.data_types import FloatTensorType

from .artifacts import ArtifactStore, fingerprint_of, write_atomically

#: Bumped when the trainer's output for the same inputs would change.
TRAINER_VERSION = 1
#: Boosting rounds between two checkpoints (and heartbeats).
CHECKPOINT_ROUNDS = 10
#: LightGBM's own text model, kept in the model's folder next to `model.onnx`.
NATIVE_MODEL = "lightgbm.txt"
#: Largest difference allowed between the exported model's scores and LightGBM's own.
EXPORT_TOLERANCE = 1e-5


class TrainingError(Exception):
    """Bad input or an export that does not score like the trained model: retrying cannot cure it."""


class Cancelled(Exception):
    """The activity was cancelled while training."""


@dataclass
class Hooks:
    """How training reports progress: a heartbeat per checkpoint, and a way to learn it was cancelled."""

    heartbeat: Callable[[dict[str, Any]], None] = lambda details: None
    cancelled: Callable[[], bool] = lambda: False
    resume: dict[str, Any] | None = None
    log: Callable[[str], None] = field(default=lambda line: None)
    #: Called with each checkpoint file once written (the store copies it to S3, for an attempt on another worker).
    saved: Callable[[Path], None] = field(default=lambda path: None)


def train_lightgbm(store: ArtifactStore, request: dict[str, Any], hooks: Hooks | None = None) -> dict[str, Any]:
    """Trains the spec's LightGBM model on the training split; early stopping watches a holdout made of the
    last days of the training window (never the validation window). Returns `{model, reused, cost}`."""
    hooks = replace(hooks or Hooks(), saved=store.save)
    started, cpu_started = time.perf_counter(), time.process_time()
    loaded, features = request["loaded"], request["features"]
    spec = loaded["spec"]
    trainer = spec["trainer"]
    fingerprint = fingerprint_of("model", "lightgbm", TRAINER_VERSION, features["fingerprint"], json.dumps(trainer, separators=(",", ":")))
    rows_in = 0

    def build(staging: Path, uri_of: Callable[[str], str]) -> dict[str, Any]:
        nonlocal rows_in
        names = [c["name"] for c in features["featureColumns"]]
        train_table = pq.read_table(store.fetch(features["train"]["uri"]))
        x, y = matrix(train_table, names, features["label"])
        rows_in = len(y)
        fit_rows, holdout_rows = holdout_split(train_table, spec["extract"]["time_column"], trainer.get("holdout", 0.1))
        params = lightgbm_params(trainer)
        fit = lgb.Dataset(x[fit_rows], y[fit_rows], feature_name=names, free_raw_data=False)
        holdout = lgb.Dataset(x[holdout_rows], y[holdout_rows], reference=fit)
        checkpoints = store.path_of(f"artifact:checkpoints/{fingerprint}.lgb")
        chosen = checkpoints.with_suffix(".rounds.json")  # the search's outcome, kept until the refit is done
        for suffix in (".lgb", ".rounds.json", ".refit.lgb"):  # an earlier attempt's, on any worker
            store.fetch_if_present(f"artifact:checkpoints/{fingerprint}{suffix}")
        if not trainer.get("refit"):
            booster, training = boost(params, fit, holdout, trainer, checkpoints, fingerprint, hooks)
        else:
            if chosen.exists():
                training = json.loads(chosen.read_text())
            else:
                _, training = boost(params, fit, holdout, trainer, checkpoints, fingerprint, hooks)
                write_atomically(chosen, json.dumps(training).encode())
                store.save(chosen)
            whole = lgb.Dataset(x, y, feature_name=names, free_raw_data=False)
            booster, resumed = boost_rounds(params, whole, None, training["bestIteration"], None, checkpoints.with_suffix(".refit.lgb"), fingerprint, hooks)
            training = {**training, "refit": True, "resumedFrom": resumed or training["resumedFrom"]}
        model = export(booster, names, x[: min(len(y), 10_000)])
        set_metadata(model, loaded, features, trainer, training)
        data = model.SerializeToString()
        (staging / "model.onnx").write_bytes(data)
        # LightGBM's own model beside the ONNX one: for `lightgbm.Booster(model_file=...)`, SHAP, or a comparison.
        booster.save_model(staging / NATIVE_MODEL)
        for leftover in (checkpoints, chosen, checkpoints.with_suffix(".refit.lgb")):
            store.discard(leftover)
        return {"uri": uri_of("model.onnx"), "fingerprint": fingerprint, "bytes": len(data), "featureNames": names, "label": features["label"], "training": training}

    value, reused = store.reuse_or_build("models", fingerprint, build)
    cost = {
        "wallSeconds": time.perf_counter() - started,
        "cpuSeconds": time.process_time() - cpu_started,
        "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "rowsIn": rows_in,
        "rowsOut": 0,
        "bytesIn": features["train"]["bytes"],
        "bytesOut": value["bytes"],
    }
    return {"model": value, "reused": reused, "cost": cost}


def matrix(table: Any, names: list[str], label: str) -> tuple[np.ndarray, np.ndarray]:
    """The feature columns as one float32 matrix and the label as float32, refusing non-numeric features."""
    columns = []
    for name in names:
        if name not in table.column_names:
            raise TrainingError(f"features: column `{name}` is not in the feature set")
        column = table.column(name)
        if not (pat.is_integer(column.type) or pat.is_floating(column.type) or pat.is_boolean(column.type)):
            raise TrainingError(f"features.sql: column `{name}` is {column.type}; LightGBM needs numbers (encode it, or list it under features.keys)")
        columns.append(column.to_numpy(zero_copy_only=False).astype(np.float32))
    return np.column_stack(columns), table.column(label).to_numpy(zero_copy_only=False).astype(np.float32)


def holdout_split(table: Any, time_column: str, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows to fit on and rows of the holdout: the last `fraction` of the training window's days (by the time
    column when the feature set carries it as a key, else the last rows)."""
    n = table.num_rows
    if time_column in table.column_names:
        days = table.column(time_column).to_numpy(zero_copy_only=False).astype("datetime64[D]")
        distinct = np.unique(days)
        held = max(1, math.ceil(len(distinct) * fraction))
        if held >= len(distinct):
            raise TrainingError(f"trainer.holdout: {fraction} of {len(distinct)} training days leaves no day to fit on")
        holdout = days >= distinct[-held]
    else:
        holdout = np.arange(n) >= n - max(1, math.ceil(n * fraction))
    return np.flatnonzero(~holdout), np.flatnonzero(holdout)


def lightgbm_params(trainer: dict[str, Any]) -> dict[str, Any]:
    """The spec's trainer settings in LightGBM's words; deterministic for a fixed seed."""
    return {
        "objective": "binary",
        "metric": "binary_logloss",
        "num_leaves": trainer.get("leaves", 63),
        "learning_rate": trainer.get("learning_rate", 0.1),
        "min_data_in_leaf": trainer.get("min_data_in_leaf", 20),
        "feature_fraction": trainer.get("feature_fraction", 1.0),
        "bagging_fraction": trainer.get("bagging_fraction", 1.0),
        "bagging_freq": trainer.get("bagging_freq", 0),
        "lambda_l1": trainer.get("l1", 0.0),
        "lambda_l2": trainer.get("l2", 0.0),
        "seed": trainer.get("seed", 7),
        "num_threads": trainer.get("threads", 0),
        "deterministic": True,
        "force_row_wise": True,
        "verbose": -1,
    }


def boost(params: dict[str, Any], fit: lgb.Dataset, holdout: lgb.Dataset, trainer: dict[str, Any], checkpoint_file: Path, fingerprint: str, hooks: Hooks) -> tuple[lgb.Booster, dict[str, Any]]:
    """Boosts up to `trees` rounds with early stopping on the holdout, and keeps the best round's model."""
    trees = trainer.get("trees", 300)
    evals: dict[str, Any] = {}
    booster, resumed_from = boost_rounds(params, fit, holdout, trees, trainer.get("early_stopping_rounds", 30), checkpoint_file, fingerprint, hooks, evals)
    losses = evals.get("holdout", {}).get("binary_logloss", [])
    best = booster.best_iteration or booster.current_iteration()
    stopped_early = booster.current_iteration() < trees and booster.best_iteration > 0
    training = {
        "iterations": booster.current_iteration(),
        "bestIteration": best,
        # Losses on the holdout (JSON has no NaN: 0 when LightGBM recorded none).
        "trainLoss": float(losses[-1]) if losses else 0.0,
        "validationLoss": float(min(losses)) if losses else 0.0,
        "stopReason": "early-stopped" if stopped_early else "max-iterations",
        "resumedFrom": resumed_from,
        "history": [],
    }
    if best and best < booster.current_iteration():
        booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    return booster, training


def boost_rounds(params: dict[str, Any], data: lgb.Dataset, holdout: lgb.Dataset | None, rounds: int, patience: int | None, checkpoint_file: Path, fingerprint: str, hooks: Hooks, evals: dict[str, Any] | None = None) -> tuple[lgb.Booster, int]:
    """Boosts `rounds` rounds (fewer when early stopping on `holdout` ends sooner). Every few rounds it writes
    a checkpoint (the model so far) and heartbeats; an attempt that finds a checkpoint continues from it.
    Returns the booster and the round it resumed after (0: from scratch)."""
    init_model, resumed_from = None, 0
    if checkpoint_file.exists():
        init_model = lgb.Booster(model_str=checkpoint_file.read_text())
        resumed_from = init_model.current_iteration()
        hooks.log(f"resuming LightGBM after round {resumed_from}")

    def checkpoint(env: lgb.callback.CallbackEnv) -> None:
        done = env.iteration + 1
        if done % CHECKPOINT_ROUNDS == 0:
            write_atomically(checkpoint_file, env.model.model_to_string().encode())
            hooks.saved(checkpoint_file)
            hooks.heartbeat({"fingerprint": fingerprint, "iteration": done, "maxIterations": rounds})
        if hooks.cancelled():
            raise Cancelled(f"cancelled after round {done}")

    callbacks: list[Any] = [checkpoint]
    if holdout is not None and patience:
        callbacks += [lgb.early_stopping(patience, verbose=False), lgb.record_evaluation(evals if evals is not None else {})]
    booster = lgb.train(
        params,
        data,
        num_boost_round=max(0, rounds - resumed_from),
        valid_sets=[holdout] if holdout is not None else None,
        valid_names=["holdout"] if holdout is not None else None,
        init_model=init_model,
        keep_training_booster=True,
        callbacks=callbacks,
    )
    return booster, resumed_from


def export(booster: lgb.Booster, names: list[str], sample: np.ndarray) -> onnx.ModelProto:
    """The booster as one ONNX TreeEnsemble (no ZipMap: `probabilities` [N, 2] is a tensor), checked to score
    like LightGBM itself on a sample; an export that does not is refused, so it is never registered."""
    try:
        model = convert_lightgbm(booster, initial_types=[("input", FloatTensorType([None, len(names)]))], zipmap=False)
    except Exception as err:  # the converter raises many kinds
        raise TrainingError(f"trainer: the LightGBM model could not be exported to ONNX ({err}); nothing was registered") from err
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    ours = session.run(["probabilities"], {"input": sample})[0][:, 1]
    theirs = booster.predict(sample)
    difference = float(np.max(np.abs(ours - theirs))) if len(sample) else 0.0
    if difference > EXPORT_TOLERANCE:
        raise TrainingError(f"trainer: the exported ONNX model scores up to {difference:.2e} away from LightGBM's own predictions; nothing was registered")
    return model


def set_metadata(model: onnx.ModelProto, loaded: dict[str, Any], features: dict[str, Any], trainer: dict[str, Any], training: dict[str, Any]) -> None:
    """The same `metadata_props` contract as the logistic models: what the model reads, how it was made."""
    spec = loaded["spec"]
    props = {
        "sluice.pipeline": spec["name"],
        "sluice.feature_names": json.dumps([c["name"] for c in features["featureColumns"]]),
        "sluice.feature_types": json.dumps(features["featureColumns"]),
        "sluice.label": features["label"],
        "sluice.training_window": f"{spec['split']['train']['from']}..{spec['split']['train']['to']}",
        "sluice.validation_window": f"{spec['split']['validate']['from']}..{spec['split']['validate']['to']}",
        "sluice.spec_hash": loaded["hash"],
        "sluice.features_fingerprint": features["fingerprint"],
        "sluice.trainer": json.dumps(trainer),
        "sluice.metrics": json.dumps({k: training[k] for k in ("iterations", "bestIteration", "validationLoss", "stopReason")}),
    }
    onnx.helper.set_model_props(model, props)
