"""Your own Python training function as a Sluice trainer plug-in (its descriptor is python.ts beside this file).

The spec names a module inside the code roots and a function in it (`trainer: {type: python, module, function,
params}`). The function gets the training window's rows split into fit rows and a holdout (`TrainingData`), the
spec's `params`, and a `Context` to heartbeat, checkpoint and learn of cancellation through; it returns a fitted
scikit-learn estimator or Pipeline, a LightGBM or XGBoost model, or an ONNX ModelProto it built itself. This module
converts it (skl2onnx, onnxmltools; no ZipMap), and the Python worker's training module checks the export against
the model's own predictions and registers it, as it does for every Python trainer."""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import pickle
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import numpy as np
import onnx
import onnxruntime as ort

from sluice_python.artifacts import write_atomically
from sluice_python.training import Cancelled, Fitted, Job, TrainingError

TRAINER = "python"
LIBRARY = "the training function's model"
#: Bumped when the trainer's output for the same inputs (the code included) would change.
VERSION = 1

#: Frames of a raising function's traceback kept in the failure (the innermost ones).
TRACEBACK_FRAMES = 4


@dataclass
class TrainingData:
    """What the training function gets: the training window's rows, split into fit rows and a holdout (the last
    `trainer.holdout` share of its days; the validation window is never in it)."""

    #: The training split as read: every column (the keys, the time column, the label, the features).
    table: Any
    #: The fit rows' features, float32 [rows, features]; a categorical feature holds its dictionary code (NaN: unseen).
    x: np.ndarray
    #: The fit rows' labels: 0/1 (binary) or the class code (multiclass) as int64, the number (regression) as float32.
    y: np.ndarray
    x_holdout: np.ndarray
    y_holdout: np.ndarray
    feature_names: list[str]
    #: Each feature's SQL type, in `feature_names` order.
    feature_types: list[str]
    #: Indices (into `feature_names`) of the categorical features.
    categorical: list[int]
    #: `binary`, `regression` or `multiclass`.
    task: str
    #: A multiclass label's class names, in code order (code k is classes[k]).
    classes: list[str]


class Unavailable(Exception):
    """Sluice's side of a Context call failed (a heartbeat, a checkpoint write): the attempt fails as the worker's, retryable, not as the function's."""


class Context:
    """How the training function reports progress and survives a lost worker."""

    def __init__(self, job: Job) -> None:
        self._job = job
        self._path = job.checkpoint(".python.checkpoint.pkl")
        #: The iterations of the newest checkpoint saved (heartbeaten as `checkpoint`).
        self._saved = 0
        #: The iterations of the checkpoint this attempt resumed from (0: it started afresh).
        self.resumed_from = 0

    def heartbeat(self, done: int, total: int | None = None) -> None:
        """Reports progress (`done` of `total` iterations, rounds, epochs): call it often, at least once per
        `execution.heartbeat_timeout`. Raises once the run is cancelled, so the function stops there."""
        try:
            self._job.progress(int(done), int(total or 0), checkpoint=self._saved or None)
        except Cancelled:
            raise
        except Exception as err:
            raise Unavailable(err) from err

    def cancelled(self) -> bool:
        """True once the run asked this attempt to stop."""
        return bool(self._job.hooks.cancelled())

    def save_checkpoint(self, state: Any, done: int | None = None) -> None:
        """Keeps `state` (anything pickle can write: a model so far, its losses) for an attempt that resumes after
        this one dies; written atomically, and copied to the object store when there is one. `done`: the iterations
        the state holds, which the run shows as where a resumed attempt continued."""
        data = pickle.dumps({"state": state, "done": int(done or 0)}, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            write_atomically(self._path, data)
            self._job.hooks.saved(self._path)
        except Exception as err:
            raise Unavailable(err) from err
        self._saved = int(done or 0)

    def checkpoint(self) -> Any | None:
        """The state the last attempt saved (`save_checkpoint`), or None on a first attempt."""
        if not self._path.exists():
            return None
        saved = pickle.loads(self._path.read_bytes())
        self.resumed_from = self._saved = saved["done"]
        if self.resumed_from:
            self._job.hooks.log(f"resuming the training function after iteration {self.resumed_from}")
        return saved["state"]


def fit(job: Job) -> Fitted:
    """Loads the spec's module, calls its function, and converts what it returns."""
    module = load_module(job)
    name = job.params.get("function") or "train"
    function = getattr(module, name, None)
    if not callable(function):
        found = sorted(n for n, v in vars(module).items() if inspect.isfunction(v) and v.__module__ == module.__name__)
        raise TrainingError(f"trainer.function: {module_name(job)} has no function `{name}` (its functions: {', '.join(found) or 'none'})")
    try:
        inspect.signature(function).bind(None, None, None)
    except TypeError:
        raise TrainingError(f"trainer.function: {name}{inspect.signature(function)} cannot be called as {name}(data, params, context): write def {name}(data, params, context)") from None
    data = training_data(job)
    context = Context(job)
    try:
        result = function(data, dict(job.params.get("params") or {}), context)
    except Cancelled:
        raise
    except Unavailable as err:
        raise err.args[0] from None
    except Exception as err:  # the user's code may raise anything
        if job.hooks.cancelled():
            # The worker interrupts a cancelled attempt's thread wherever it is (Temporal's CancelledError): a cancellation, not the function's failure.
            raise Cancelled(f"cancelled ({type(err).__name__} in the training function)") from None
        raise TrainingError(f"trainer.function: {name} raised {type(err).__name__}: {err} ({frames(err)}); nothing was registered") from None
    model, predict = convert(result, job)
    training = {
        "iterations": int(getattr(result, "n_iter_", None) or getattr(result, "n_estimators", None) or 1),
        "bestIteration": int(getattr(result, "n_iter_", None) or getattr(result, "n_estimators", None) or 1),
        "trainLoss": 0.0,
        "validationLoss": holdout_loss(predict, data, job.task),
        "stopReason": f"returned {type(result).__name__}",
        "resumedFrom": context.resumed_from,
        "history": [],
    }
    # The model as the function returned it, beside model.onnx: for SHAP, a notebook, or a comparison (unpickled with the same code and libraries).
    native = None if isinstance(result, onnx.ModelProto) else ("model.pkl", lambda path: path.write_bytes(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)))
    return Fitted(model, training, predict, native=native)


def module_name(job: Job) -> str:
    return Path(job.request["loaded"]["code"]["path"]).name


def load_module(job: Job) -> ModuleType:
    """The spec's module, from the path the spec loader confined and hashed; refused when its content changed since."""
    code = job.request["loaded"].get("code")
    if not code:
        raise TrainingError("trainer.module: the loaded spec carries no trainer code; load the spec with this version of Sluice")
    path = Path(code["path"])
    try:
        text = path.read_bytes()
    except OSError as err:
        raise TrainingError(f"trainer.module: {path} cannot be read on this worker ({err.strerror}); the Python workers read trainer code at the path the spec loader found it") from None
    if hashlib.sha256(text).hexdigest() != code["sha256"]:
        raise TrainingError(f"trainer.module: {path.name} changed since the spec was loaded; start the run again to train the new code")
    spec = importlib.util.spec_from_file_location(f"sluice_user_trainers.{code['sha256'][:16]}", path)
    if spec is None or spec.loader is None:
        raise TrainingError(f"trainer.module: {path.name} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    # Registered under a name of its content, as an import would: its dataclasses, and pickle (its checkpoints), look it up there.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        line = (err.text or "").strip()
        raise TrainingError(f"trainer.module: {path.name}:{err.lineno}: {err.msg}{f': {line}' if line else ''}") from None
    except Exception as err:
        raise TrainingError(f"trainer.module: importing {path.name} raised {type(err).__name__}: {err} ({frames(err)})") from None
    return module


def frames(err: BaseException) -> str:
    """The innermost frames of an exception's traceback, as `file:line in function`, for the failure message."""
    stack = traceback.extract_tb(err.__traceback__)[-TRACEBACK_FRAMES:]
    return "at " + " < ".join(f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in reversed(stack))


def training_data(job: Job) -> TrainingData:
    classifier = job.task in ("binary", "multiclass")
    y = job.y.astype(np.int64) if classifier else job.y
    types = {c["name"]: c["type"] for c in job.request["features"]["featureColumns"]}
    return TrainingData(
        table=job.table,
        x=job.x[job.fit_rows],
        y=y[job.fit_rows],
        x_holdout=job.x[job.holdout_rows],
        y_holdout=y[job.holdout_rows],
        feature_names=list(job.names),
        feature_types=[types.get(n, "FLOAT") for n in job.names],
        categorical=list(job.categorical),
        task=job.task,
        classes=list(job.classes),
    )


def convert(result: Any, job: Job) -> tuple[onnx.ModelProto, Callable[[np.ndarray], np.ndarray]]:
    """The ONNX model of what the function returned, and the model's own scoring (what the export is checked against)."""
    width = len(job.names)
    if isinstance(result, onnx.ModelProto):
        session = ort.InferenceSession(result.SerializeToString(), providers=["CPUExecutionProvider"])
        outputs = [o.name for o in session.get_outputs()]
        output = next((n for n in ("probabilities", "probability", "prediction", "variable") if n in outputs), outputs[-1])
        run = lambda x: np.asarray(session.run([output], {session.get_inputs()[0].name: x})[0])  # noqa: E731
        return result, (lambda x: squeeze(run(x), job.task))
    classifier = job.task in ("binary", "multiclass")
    kind = type(result).__name__
    if classifier and not callable(getattr(result, "predict_proba", None)):
        raise TrainingError(f"trainer.function: returned a {kind}, which gives no probabilities (no predict_proba); a {job.task} pipeline needs a classifier (e.g. HistGradientBoostingClassifier)")
    if not classifier and is_classifier(result):
        raise TrainingError(f"trainer.function: returned a {kind}, a classifier; a regression pipeline needs a regressor (e.g. HistGradientBoostingRegressor)")
    if not callable(getattr(result, "predict", None)):
        raise TrainingError(f"trainer.function: returned a {type(result).__module__}.{kind}, which no converter knows (tried skl2onnx for scikit-learn, onnxmltools for LightGBM and XGBoost); return a fitted model of one of them, or an onnx.ModelProto")
    if job.task == "binary":
        predict = lambda x: np.asarray(result.predict_proba(x))[:, 1]  # noqa: E731
    elif job.task == "multiclass":
        predict = lambda x: np.asarray(result.predict_proba(x))  # noqa: E731
    else:
        predict = lambda x: np.asarray(result.predict(x)).reshape(-1)  # noqa: E731
    library = type(result).__module__.split(".")[0]
    try:
        if library == "lightgbm":
            from onnxmltools import convert_lightgbm
            from onnxmltools.convert.common.data_types import FloatTensorType as MlFloat

            model = convert_lightgbm(result, initial_types=[("input", MlFloat([None, width]))], zipmap=False)
        elif library == "xgboost":
            from onnxmltools import convert_xgboost
            from onnxmltools.convert.common.data_types import FloatTensorType as MlFloat

            model = convert_xgboost(result, initial_types=[("input", MlFloat([None, width]))])
        elif library == "sklearn":
            from skl2onnx import to_onnx
            from skl2onnx.common.data_types import FloatTensorType

            allow_onnx_bool_checks()

            model = to_onnx(result, initial_types=[("input", FloatTensorType([None, width]))], options={id(m): {"zipmap": False} for m in classifiers_in(result)})
        else:
            raise TrainingError(f"trainer.function: returned a {type(result).__module__}.{kind}, which no converter knows (tried skl2onnx for scikit-learn, onnxmltools for LightGBM and XGBoost); return a fitted model of one of them, or an onnx.ModelProto")
    except TrainingError:
        raise
    except Exception as err:  # the converters raise many kinds
        raise TrainingError(f"trainer.function: the returned {kind} could not be converted to ONNX ({type(err).__name__}: {err}); nothing was registered") from None
    return model, predict


def allow_onnx_bool_checks() -> None:
    """skl2onnx (1.19, 1.20) writes a leaf's `nodes_missing_value_tracks_true` as Python's False, which the onnx
    package (1.23) refuses in an INTS attribute, so no HistGradientBoosting model converts: the flag is passed on as
    the integer ONNX means by it. Idempotent."""
    import skl2onnx.common.tree_ensemble as trees

    if getattr(trees.add_node, "sluice_int_flags", False):
        return
    original = trees.add_node

    def add_node(*args: Any, nodes_missing_value_tracks_true: Any = 0, **kwargs: Any) -> Any:
        return original(*args, nodes_missing_value_tracks_true=int(nodes_missing_value_tracks_true), **kwargs)

    add_node.sluice_int_flags = True  # type: ignore[attr-defined]
    trees.add_node = add_node


def is_classifier(model: Any) -> bool:
    """True for a scikit-learn classifier (scikit-learn's own test: estimator tags) or a model that says it is one."""
    if type(model).__module__.split(".")[0] == "sklearn" or hasattr(model, "__sklearn_tags__"):
        from sklearn.base import is_classifier as sklearn_is_classifier

        try:
            return bool(sklearn_is_classifier(model))
        except Exception:  # a model whose tags cannot be read
            return False
    return getattr(model, "_estimator_type", None) == "classifier"


def classifiers_in(estimator: Any) -> list[Any]:
    """The estimator and, in a Pipeline, its steps that are classifiers: each converted without a ZipMap."""
    found = [estimator] if is_classifier(estimator) else []
    for _, step in getattr(estimator, "steps", []) or []:
        found.extend(classifiers_in(step))
    return found


def squeeze(scores: np.ndarray, task: str) -> np.ndarray:
    """An ONNX model's scores in the shape its task's predictions have: the positive class's for a binary model."""
    if task == "binary" and scores.ndim == 2:
        return scores[:, -1]
    if task == "regression":
        return scores.reshape(-1)
    return scores


def holdout_loss(predict: Callable[[np.ndarray], np.ndarray], data: TrainingData, task: str) -> float:
    """The model's loss on the holdout rows: log loss for a classifier, mean squared error for a regression."""
    if len(data.y_holdout) == 0:
        return 0.0
    scores = np.asarray(predict(data.x_holdout), dtype=np.float64)
    if task == "regression":
        return float(np.mean((scores - data.y_holdout) ** 2))
    eps = 1e-15
    if task == "binary":
        p = np.clip(scores, eps, 1 - eps)
        return float(-np.mean(data.y_holdout * np.log(p) + (1 - data.y_holdout) * np.log(1 - p)))
    picked = scores[np.arange(len(data.y_holdout)), np.clip(data.y_holdout, 0, scores.shape[1] - 1)]
    return float(-np.mean(np.log(np.clip(picked, eps, 1))))

