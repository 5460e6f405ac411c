"""XGBoost as a Sluice trainer plug-in (its descriptor is xgboost.ts beside this file): gradient-boosted trees by
the `hist` method (categorical features split natively) with early stopping on the holdout days, a checkpoint every few rounds that a retried attempt
continues from (`xgb_model`), an optional refit on the whole training window, and one ONNX TreeEnsemble
(onnxmltools). The Python worker's training module (sluice_python.training) does the rest of the train step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xgboost as xgb
from onnxmltools import convert_xgboost
from onnxmltools.convert.common.data_types import FloatTensorType

from sluice_python.training import Checkpoint, EarlyStopping, Fitted, Job, TrainingError, search_then_refit

TRAINER = "xgboost"
LIBRARY = "XGBoost"
#: Bumped when the trainer's output for the same inputs would change.
VERSION = 2  # 2: the features' gain in the metadata

#: XGBoost's objective and the holdout metric early stopping watches, by task (a regression's by `objective`).
OBJECTIVES = {
    "binary": ("binary:logistic", "logloss"),
    "multiclass": ("multi:softprob", "mlogloss"),
    "regression": ("reg:squarederror", "rmse"),
    "huber": ("reg:pseudohubererror", "mphe"),
    "poisson": ("count:poisson", "poisson-nloglik"),
}


def fit(job: Job) -> Fitted:
    """Boosts on the fit rows with early stopping on the holdout (and, with `refit`, once more on every training
    row for the rounds early stopping chose); exports the best model."""
    trainer = job.params
    params = xgboost_params(trainer, job.task, len(job.classes))
    if params["objective"] == "count:poisson" and (negative := int((job.y < 0).sum())):
        raise TrainingError(f"trainer.objective: poisson predicts counts, and {negative} training labels are negative (the smallest: {float(job.y.min()):g}); use regression or huber, or shift the label in label.sql")
    # Categorical features split natively on their codes ("c"), one category against the rest, and NaN (a category
    # training never saw) takes the missing branch. Not XGBoost's partition splits: onnxmltools turns a partition
    # into a chain of equality tests, one node per category, which on ~250 airports at depth 10 overflows its
    # recursion; a one-category split is one node (converted in 1 s, scores equal to 2.4e-7).
    types = ["c" if i in job.categorical else "q" for i in range(len(job.names))]

    def matrix(x: Any, y: Any = None, names: list[str] | None = job.names) -> xgb.DMatrix:
        return xgb.DMatrix(x, y, feature_names=names, feature_types=types, enable_categorical=bool(job.categorical))

    fit_set = matrix(job.x[job.fit_rows], job.y[job.fit_rows])
    holdout = matrix(job.x[job.holdout_rows], job.y[job.holdout_rows])
    whole = lambda: matrix(job.x, job.y)  # noqa: E731
    booster, training = search_then_refit(
        job,
        lambda: boost(params, fit_set, holdout, trainer, job.checkpoint(".xgb.checkpoint.json"), job),
        lambda rounds: boost_rounds(params, whole(), None, rounds, None, job.checkpoint(".refit.xgb.checkpoint.json"), job),
    )
    if not job.export:
        return Fitted(None, training, lambda rows: booster.predict(matrix(rows)))
    # The ONNX model reads one tensor of columns in order, not named features; the feature types stay, and the
    # converter turns a categorical split into equality tests on the codes.
    total_gain = booster.get_score(importance_type="total_gain")  # features never split on are left out
    gain = ("gain", [float(total_gain.get(name, 0.0)) for name in job.names])
    booster.feature_names = None
    try:
        model = convert_xgboost(booster, initial_types=[("input", FloatTensorType([None, len(job.names)]))])
    except Exception as err:  # the converter raises many kinds
        raise TrainingError(f"trainer: the XGBoost model could not be exported to ONNX ({err}); nothing was registered") from err
    predict = lambda rows: booster.predict(matrix(rows, names=None))  # noqa: E731
    return Fitted(model, training, predict, native=("xgboost.json", lambda path: booster.save_model(str(path))), importance=gain)


def xgboost_params(trainer: dict[str, Any], task: str = "binary", classes: int = 0) -> dict[str, Any]:
    """The spec's trainer settings in XGBoost's words; deterministic for a fixed seed and thread count. A multiclass
    model boosts one tree per class and round (`num_class`), its probabilities a softmax of their sums."""
    objective, metric = OBJECTIVES[task if task != "regression" else trainer.get("objective") or "regression"]
    return {
        "objective": objective,
        "eval_metric": metric,
        **({"num_class": classes} if task == "multiclass" else {}),
        "tree_method": "hist",
        "max_depth": trainer.get("max_depth", 6),
        "eta": trainer.get("learning_rate", 0.1),
        "min_child_weight": trainer.get("min_child_weight", 1),
        "subsample": trainer.get("subsample", 1.0),
        "colsample_bytree": trainer.get("colsample_bytree", 1.0),
        "alpha": trainer.get("l1", 0.0),
        "lambda": trainer.get("l2", 1.0),
        "gamma": trainer.get("gamma", 0.0),
        "max_bin": trainer.get("max_bin", 256),
        # More than any categorical feature has codes: every categorical split is one category against the rest.
        "max_cat_to_onehot": 1 << 20,
        "seed": trainer.get("seed", 7),
        **({"nthread": trainer["threads"]} if trainer.get("threads") else {}),
        "verbosity": 0,
    }


def boost(params: dict[str, Any], fit_set: xgb.DMatrix, holdout: xgb.DMatrix, trainer: dict[str, Any], checkpoint_file: Path, job: Job) -> tuple[xgb.Booster, dict[str, Any]]:
    """Boosts up to `trees` rounds with early stopping on the holdout, and keeps the rounds up to the best."""
    trees = trainer.get("trees", 300)
    stopping = EarlyStopping(trainer.get("early_stopping_rounds", 30))
    booster, resumed_from = boost_rounds(params, fit_set, holdout, trees, stopping, checkpoint_file, job)
    training = stopping.training(booster.num_boosted_rounds(), trees, resumed_from)
    best = training["bestIteration"]
    if best < training["iterations"]:
        booster = booster[:best]
    return booster, training


class EachRound(xgb.callback.TrainingCallback):
    """After every round, the checkpoint's turn (Checkpoint: the holdout loss to the early stopping, whose True
    stops boosting; a heartbeat every few rounds, the model and its losses when due, a stop when cancelled)."""

    def __init__(self, checkpoint: Checkpoint) -> None:
        super().__init__()
        self.checkpoint = checkpoint

    def after_iteration(self, model: xgb.Booster, epoch: int, evals_log: Any) -> bool:
        losses = next(iter((evals_log or {}).get("holdout", {}).values()), [])  # the one eval_metric's
        # `epoch` counts from this attempt's first round; the checkpoint counts every round.
        return self.checkpoint.reached(model.num_boosted_rounds(), lambda: bytes(model.save_raw("json")).decode(), float(losses[-1]) if losses else None)


def boost_rounds(params: dict[str, Any], data: xgb.DMatrix, holdout: xgb.DMatrix | None, rounds: int, stopping: EarlyStopping | None, checkpoint_file: Path, job: Job) -> tuple[xgb.Booster, int]:
    """Boosts `rounds` rounds (fewer when `stopping` ends it sooner on `holdout`'s losses), continuing from the
    checkpoint an earlier attempt left. Returns the booster and the round it resumed after (0: from scratch)."""
    stopping = stopping or EarlyStopping(None)
    checkpoint = Checkpoint(checkpoint_file, job, stopping, rounds)
    saved = checkpoint.load()
    init_model, resumed_from = None, 0
    if saved is not None:
        init_model = xgb.Booster()
        init_model.load_model(bytearray(saved.encode()))
        resumed_from = init_model.num_boosted_rounds()
        job.hooks.log(f"resuming XGBoost after round {resumed_from}")
        if checkpoint.finished:
            return init_model, resumed_from
    booster = xgb.train(
        params,
        data,
        num_boost_round=rounds - resumed_from,
        evals=[(holdout, "holdout")] if holdout is not None else (),
        xgb_model=init_model,
        callbacks=[EachRound(checkpoint)],
        verbose_eval=False,
    )
    return booster, resumed_from
