"""The train step of every Python trainer plug-in: the same inputs (a content-addressed feature set) and the
same output (one self-contained ONNX model with Sluice's metadata, checked to score like the library itself,
published atomically) as the TypeScript trainers. A plug-in module (`activities/train/trainers/<type>.py`,
beside its descriptor) only fits and exports; this module does the rest."""

from __future__ import annotations

import json
import math
import os
import resource
import socket
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import numpy as np
import onnx
import onnxruntime as ort
import pyarrow.parquet as pq
import pyarrow.types as pat

from .artifacts import ArtifactStore, fingerprint_of, write_atomically

# This worker process as Temporal's SDK names it by default (the identity in the history's started events).
WORKER_IDENTITY = f"{os.getpid()}@{socket.gethostname()}"

#: Largest difference allowed between the exported model's scores and the library's own (relative past 1), unless
#: the plug-in's Fitted says its export is exact to a tighter one.
EXPORT_TOLERANCE = 1e-5
#: Boosting rounds between two heartbeats (and checkpoints, while they are cheap: Checkpoint).
CHECKPOINT_ROUNDS = 10
#: The largest share of a fit's time its checkpoints may take.
CHECKPOINT_SHARE = 0.05


class TrainingError(Exception):
    """Bad input or an export that does not score like the trained model: retrying cannot cure it."""


class Cancelled(Exception):
    """The activity was cancelled while training."""


@dataclass
class Hooks:
    """How training reports progress: a heartbeat per checkpoint, and a way to learn it was cancelled."""

    heartbeat: Callable[[dict[str, Any]], None] = lambda details: None
    cancelled: Callable[[], bool] = lambda: False
    log: Callable[[str], None] = field(default=lambda line: None)
    #: Called with each checkpoint file once written (the store copies it to S3, for an attempt on another worker).
    saved: Callable[[Path], None] = field(default=lambda path: None)


@dataclass
class Job:
    """What a trainer plug-in's `fit` gets: the rows (float32), which to fit on and which to hold out (the last
    days of the training window), its settings, and where its checkpoints go."""

    x: np.ndarray
    y: np.ndarray
    names: list[str]
    fit_rows: np.ndarray
    holdout_rows: np.ndarray
    params: dict[str, Any]
    fingerprint: str
    #: Indices (into `names`) of the categorical features: codes 0, 1, … of the training window's dictionary, NaN for a category it never saw.
    categorical: list[int]
    hooks: Hooks
    store: ArtifactStore
    #: What the model predicts (the spec's `task`): `binary` (the positive class's probability), `regression` (a
    #: number) or `multiclass` (a probability per class of `classes`; `y` holds each row's class code).
    task: str = "binary"
    #: A multiclass label's classes in code order (the feature set's); empty for the other tasks.
    classes: list[str] = field(default_factory=list)
    #: False for a tuning trial: the fit is scored on the holdout and never exported (`Fitted.model` is None).
    export: bool = True
    #: Called with (round, holdout loss) at each checkpoint of the early-stopping fit; a tuning trial's pruner raises there to stop it.
    report: Callable[[int, float], None] | None = None
    checkpoints: list[Path] = field(default_factory=list)
    #: The holdout loss at each checkpoint of the early-stopping fit, by round.
    curve: dict[int, float] = field(default_factory=dict)
    #: After a tuning search: the best trial's early stopping (the same settings on the same rows), which a refit starts from.
    searched: dict[str, Any] | None = None
    #: The training split as read (every column: keys, the time column, the label), for a trainer that wants more than `x`.
    table: Any = None
    #: The train step's request (the loaded spec, the feature set), for a trainer that reads more of it.
    request: dict[str, Any] = field(default_factory=dict)

    def checkpoint(self, suffix: str) -> Path:
        """A checkpoint file of this model (an earlier attempt's, fetched from the store when it has one); removed once the model is published."""
        uri = f"artifact:checkpoints/{self.fingerprint}{suffix}"
        self.store.fetch_if_present(uri)
        path = self.store.path_of(uri)
        self.checkpoints.append(path)
        return path

    def progress(self, done: int, total: int, holdout_loss: float | None = None, checkpoint: int | None = None) -> None:
        """Heartbeats the progress (and the holdout loss, when the fit has a holdout, and the rounds of the newest
        checkpoint); raises Cancelled once the activity is asked to stop, and whatever `report` raises (a pruned trial)."""
        beat: dict[str, Any] = {"fingerprint": self.fingerprint, "iteration": done, "maxIterations": total}
        if holdout_loss is not None:
            beat["holdoutLoss"] = holdout_loss
        if checkpoint is not None:
            beat["checkpoint"] = checkpoint
        self.hooks.heartbeat(beat)
        if self.hooks.cancelled():
            raise Cancelled(f"cancelled after round {done}")
        if holdout_loss is not None:
            self.curve[done] = holdout_loss
            if self.report:
                self.report(done, holdout_loss)


@dataclass
class EarlyStopping:
    """Early stopping that a resumed attempt continues: the holdout loss of every round so far, kept in the
    checkpoint with the model. Both boosting libraries stop the same way (a strictly lower loss is better; stop
    after `patience` rounds without one), but theirs start afresh at `init_model`, so an attempt resumed after a
    kill chose its best round among its own rounds only, and its model differed from an uninterrupted run's."""

    patience: int | None
    losses: list[float] = field(default_factory=list)

    def add(self, loss: float) -> bool:
        """Records the next round's holdout loss; True once `patience` rounds have passed without a better one."""
        self.losses.append(loss)
        return self.stopped

    @property
    def stopped(self) -> bool:
        """True once `patience` rounds have passed without a better loss (a checkpoint can be written at that round)."""
        return self.patience is not None and len(self.losses) - self.best >= self.patience

    @property
    def best(self) -> int:
        """Rounds of the best model so far (the first round with the lowest loss); 0 before any round."""
        return int(np.argmin(self.losses)) + 1 if self.losses else 0

    def training(self, rounds: int, trees: int, resumed_from: int) -> dict[str, Any]:
        """How a boosting fit of `rounds` rounds (at most `trees`) went: the rounds to keep (`bestIteration`) and its
        holdout losses, in the objective's metric (JSON has no NaN: 0 when none were recorded)."""
        return {
            "iterations": rounds,
            "bestIteration": self.best or rounds,
            "trainLoss": float(self.losses[-1]) if self.losses else 0.0,
            "validationLoss": float(min(self.losses)) if self.losses else 0.0,
            "stopReason": "early-stopped" if rounds < trees else "max-iterations",
            "resumedFrom": resumed_from,
            "history": [],
        }


class Checkpoint:
    """A boosting fit's checkpoint: the model so far and the holdout loss of each of its rounds (`EarlyStopping`)
    in one file, written atomically and copied to the store, so a resumed attempt trains the same trees as an
    uninterrupted one. Written every CHECKPOINT_ROUNDS rounds while that costs at most CHECKPOINT_SHARE of the
    training time: a tree ensemble's text grows with every round, and writing it every 10 rounds made the
    checkpoints quadratic (735 leaves, 300 rounds on 1M rows: 8.6 s of a 31.1 s fit; 1,765 rounds spent more time
    writing than boosting)."""

    def __init__(self, path: Path, job: Job, stopping: EarlyStopping, total: int, clock: Callable[[], float] = time.perf_counter) -> None:
        self.path, self.job, self.stopping, self.total, self.clock = path, job, stopping, total, clock
        #: Rounds in the newest checkpoint written or loaded (heartbeaten as `checkpoint`).
        self.rounds = 0
        self._next = 0.0

    @property
    def finished(self) -> bool:
        """True when the loaded checkpoint already holds the whole fit: every round, or the round early stopping
        stopped at. An attempt killed after writing it (before the model was published) has nothing left to boost,
        and both libraries refuse zero rounds."""
        return self.rounds >= self.total or self.stopping.stopped

    def load(self) -> str | None:
        """The model of an earlier attempt's checkpoint (None without one); its holdout losses go into `stopping`."""
        if not self.path.exists():
            return None
        saved = json.loads(self.path.read_text())
        self.stopping.losses[:] = [float(loss) for loss in saved["holdoutLosses"]]
        self.rounds = int(saved["rounds"])
        return str(saved["model"])

    def reached(self, done: int, model: Callable[[], str], holdout_loss: float | None) -> bool:
        """Called after round `done` with its holdout loss (None without a holdout): records it for the early
        stopping; every CHECKPOINT_ROUNDS rounds, writes the checkpoint when it is due (`model()` is the model's
        text) and heartbeats (Job.progress); between them, stops a cancelled attempt. True when boosting should stop."""
        stop = self.stopping.add(holdout_loss) if holdout_loss is not None else False
        if done % CHECKPOINT_ROUNDS:
            if self.job.hooks.cancelled():
                self.job.progress(done, self.total)
            return stop
        if self.clock() >= self._next:
            started = self.clock()
            write_atomically(self.path, json.dumps({"rounds": done, "model": model(), "holdoutLosses": self.stopping.losses}).encode())
            self.job.hooks.saved(self.path)
            self.rounds = done
            finished = self.clock()
            self._next = finished + (finished - started) / CHECKPOINT_SHARE
        self.job.progress(done, self.total, holdout_loss, self.rounds)
        return stop


@dataclass
class Fitted:
    """What a plug-in's `fit` returns: the exported model, how its training went, the library's own scoring (for
    the export check), and optionally the library's own model file to keep beside `model.onnx`."""

    model: onnx.ModelProto | None
    training: dict[str, Any]
    predict: Callable[[np.ndarray], np.ndarray]
    native: tuple[str, Callable[[Path], None]] | None = None
    #: The library's own importance of each feature (in `Job.names` order) and what it measures (`gain`).
    importance: tuple[str, list[float]] | None = None
    #: The export check's tolerance, when the export is exact to more than EXPORT_TOLERANCE (a LightGBM TreeEnsemble
    #: kept in double precision: 1e-6).
    tolerance: float = EXPORT_TOLERANCE


def search_then_refit(job: Job, search: Callable[[], tuple[Any, dict[str, Any]]], refit: Callable[[int], tuple[Any, int]]) -> tuple[Any, dict[str, Any]]:
    """The boosting trainers' protocol. `search()` boosts on the fit rows with early stopping on the holdout and
    returns the model and how training went (`bestIteration`: the rounds it chose). With `refit` set, those rounds
    are kept in a checkpoint (so an attempt that dies in the refit does not search again), and `refit(rounds)`
    trains that many rounds on every training row, returning the model and the round it resumed after; the
    refit's wall seconds (this attempt's) are reported as `refitSeconds`. After a tuning search (`job.searched`),
    the best trial's rounds are used and nothing is searched again."""
    if not job.params.get("refit"):
        return search()
    chosen = job.checkpoint(".rounds.json")
    if job.searched:
        training = {"history": [], **job.searched, "resumedFrom": 0, "searched": True}
    elif chosen.exists():
        training = json.loads(chosen.read_text())
    else:
        _, training = search()
        write_atomically(chosen, json.dumps(training).encode())
        job.store.save(chosen)
    started = time.perf_counter()
    model, resumed = refit(training["bestIteration"])
    refit_seconds = time.perf_counter() - started
    return model, {**training, "refit": True, "refitSeconds": refit_seconds, "resumedFrom": resumed or training["resumedFrom"]}


def train(store: ArtifactStore, request: dict[str, Any], plugin: ModuleType, hooks: Hooks | None = None) -> dict[str, Any]:
    """Trains the spec's model with `plugin` (a trainer module: TRAINER, VERSION, fit, and LIBRARY, the name its
    errors give the library) on the training split and
    publishes it content-addressed by the features and the trainer settings. Returns `{model, reused, cost}`."""
    hooks = replace(hooks or Hooks(), saved=store.save)
    started, cpu_started = time.perf_counter(), time.process_time()
    loaded, features = request["loaded"], request["features"]
    spec = loaded["spec"]
    params = spec["trainer"]
    # A trainer that runs the spec's own code (trainer.module): its content is an input too.
    code = [loaded["code"]["sha256"]] if loaded.get("code") else []
    fingerprint = fingerprint_of("model", plugin.TRAINER, plugin.VERSION, features["fingerprint"], json.dumps(params, separators=(",", ":")), *code)
    rows_in = 0

    def build(staging: Path, uri_of: Callable[[str], str]) -> dict[str, Any]:
        nonlocal rows_in
        job = job_of(store, request, plugin, params, fingerprint, hooks, searched=request.get("searched"))
        y, names, library = job.y, job.names, getattr(plugin, "LIBRARY", plugin.TRAINER)
        rows_in = len(y)
        fitted = plugin.fit(job)
        if fitted.model is None:
            raise TrainingError(f"trainer: {plugin.TRAINER} returned no ONNX model; nothing was registered")
        # Every validation row, not a sample: a row whose value falls between a threshold and its float32 rounding
        # takes the other branch in a float32 export, and a sample can miss every such row.
        validation = pq.read_table(store.fetch(features["validate"]["uri"]), columns=names)
        check_export(fitted, feature_matrix(validation, names, library), library)
        set_metadata(fitted.model, loaded, features, params, fitted.training, dictionary(store, features), fitted.importance)
        data = fitted.model.SerializeToString()
        (staging / "model.onnx").write_bytes(data)
        if fitted.native:
            fitted.native[1](staging / fitted.native[0])
        for leftover in job.checkpoints:
            store.discard(leftover)
        return {"uri": uri_of("model.onnx"), "fingerprint": fingerprint, "bytes": len(data), "featureNames": names, "label": features["label"], "training": fitted.training}

    value, reused = store.reuse_or_build("models", fingerprint, build)
    cost = {
        "wallSeconds": time.perf_counter() - started,
        "cpuSeconds": time.process_time() - cpu_started,
        "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "worker": WORKER_IDENTITY,
        "rowsIn": rows_in,
        "rowsOut": 0,
        "bytesIn": features["train"]["bytes"],
        "bytesOut": value["bytes"],
    }
    return {"model": value, "reused": reused, "cost": cost}


def job_of(store: ArtifactStore, request: dict[str, Any], plugin: ModuleType, params: dict[str, Any], fingerprint: str, hooks: Hooks, **options: Any) -> Job:
    """The Job of a train step or a tuning trial: the feature set's training rows (float32), the fit and holdout rows
    (the last `holdout` share of the training window's days), the categorical columns, and `options` (Job fields)."""
    features = request["features"]
    names = [c["name"] for c in features["featureColumns"]]
    table = pq.read_table(store.fetch(features["train"]["uri"]))
    x, y = matrix(table, names, features["label"], getattr(plugin, "LIBRARY", plugin.TRAINER))
    fit_rows, holdout_rows = holdout_split(table, request["loaded"]["spec"]["extract"]["time_column"], params.get("holdout", 0.1))
    categorical = [names.index(c["name"]) for c in features.get("categorical") or []]
    task = request["loaded"]["spec"].get("task") or "binary"
    classes = [c["name"] for c in features.get("classes") or []]
    return Job(x, y, names, fit_rows, holdout_rows, params, fingerprint, categorical, hooks, store, task=task, classes=classes, table=table, request=request, **options)


def matrix(table: Any, names: list[str], label: str, trainer: str) -> tuple[np.ndarray, np.ndarray]:
    """The feature columns as one float32 matrix and the label as float32, refusing non-numeric features."""
    return feature_matrix(table, names, trainer), table.column(label).to_numpy(zero_copy_only=False).astype(np.float32)


def feature_matrix(table: Any, names: list[str], trainer: str) -> np.ndarray:
    """The feature columns as one float32 matrix, refusing non-numeric features."""
    columns = []
    for name in names:
        if name not in table.column_names:
            raise TrainingError(f"features: column `{name}` is not in the feature set")
        column = table.column(name)
        if not (pat.is_integer(column.type) or pat.is_floating(column.type) or pat.is_boolean(column.type)):
            raise TrainingError(f"features.sql: column `{name}` is {column.type}; {trainer} needs numbers (encode it, or list it under features.keys)")
        columns.append(column.to_numpy(zero_copy_only=False).astype(np.float32))
    return np.column_stack(columns)


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


def check_export(fitted: Fitted, sample: np.ndarray, trainer: str) -> None:
    """The exported model must score like the library itself (the positive class's probability, the predicted
    number, or every class's probability, within the Fitted's tolerance) on every row of `sample`; an export that
    does not is refused, so it is never registered."""
    session = ort.InferenceSession(fitted.model.SerializeToString(), providers=["CPUExecutionProvider"])
    output = next((o.name for o in session.get_outputs() if o.name in ("probabilities", "probability", "prediction")), session.get_outputs()[-1].name)
    ours = np.asarray(session.run([output], {session.get_inputs()[0].name: sample})[0])
    theirs = np.asarray(fitted.predict(sample))
    if ours.ndim == 2 and theirs.ndim == 1:
        ours = ours[:, -1]  # [N, 2]: the positive class; [N, 1]: a regressor's column
    if ours.shape != theirs.shape:
        raise TrainingError(f"trainer: the exported ONNX model gives {list(ours.shape)} values for {trainer}'s {list(theirs.shape)}; nothing was registered")
    # Relative to the value past 1: a regression's numbers are sums of float32 leaves (XGBoost's export of 60
    # trees on delays in minutes differs by 1.1e-5 minutes); a probability's difference is absolute.
    difference = float(np.max(np.abs(ours - theirs) / np.maximum(1.0, np.abs(theirs)))) if len(sample) else 0.0
    if difference > fitted.tolerance:
        raise TrainingError(f"trainer: the exported ONNX model scores up to {difference:.2e} away from {trainer}'s own predictions; nothing was registered")


def dictionary(store: ArtifactStore, features: dict[str, Any]) -> dict[str, dict[str, list[str]]] | None:
    """The categorical features' dictionary from the feature set's `sluice_categories` table: per column, the values
    with a code of their own in code order (`codes`), and the rarer ones that share the next code (`rare`)."""
    ref = (features.get("stats") or {}).get("sluice_categories")
    if not features.get("categorical") or not ref:
        return None
    table = pq.read_table(store.fetch(ref["uri"])).to_pylist()
    found: dict[str, dict[str, list[str]]] = {}
    for column in features["categorical"]:
        rows = sorted((r for r in table if r["column"] == column["name"]), key=lambda r: (r["code"], r["value"]))
        found[column["name"]] = {"codes": [r["value"] for r in rows if r["code"] < column["codes"]], "rare": [r["value"] for r in rows if r["code"] >= column["codes"]]}
    return found


def set_metadata(model: onnx.ModelProto, loaded: dict[str, Any], features: dict[str, Any], trainer: dict[str, Any], training: dict[str, Any], categories: dict[str, Any] | None = None, importance: tuple[str, list[float]] | None = None) -> None:
    """The same `metadata_props` contract as the TypeScript trainers' models: what the model reads, how it was made.
    With categorical features, `sluice.categories` is the dictionary the model's codes come from: a column's value at
    position i of `codes` reads as i, one of `rare` as len(codes), any other (or NULL) as NaN."""
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
        **({"sluice.code": json.dumps({"module": Path(loaded["code"]["path"]).name, "sha256": loaded["code"]["sha256"]})} if loaded.get("code") else {}),
        **({"sluice.categories": json.dumps(categories)} if categories else {}),
        **({"sluice.classes": json.dumps([c["name"] for c in features["classes"]])} if features.get("classes") else {}),
        **({"sluice.importance": json.dumps({"measure": importance[0], "values": [float(v) for v in importance[1]]})} if importance else {}),
    }
    onnx.helper.set_model_props(model, props)
