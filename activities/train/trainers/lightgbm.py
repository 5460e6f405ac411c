"""LightGBM as a Sluice trainer plug-in (its descriptor is lightgbm.ts beside this file): gradient-boosted trees
with early stopping on the holdout days, checkpoints every few rounds that a retried attempt resumes from
(`init_model`), an optional refit on the whole training window, and one ONNX TreeEnsemble with set-membership
splits for the categorical features (sluice_python.tree_ensemble). The Python worker's training module (sluice_python.training) does the rest of the train step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightgbm as lgb
from onnxmltools import convert_lightgbm
from onnxmltools.convert.common.data_types import FloatTensorType

from sluice_python.training import EXPORT_TOLERANCE, Checkpoint, EarlyStopping, Fitted, Job, TrainingError, search_then_refit
from sluice_python.tree_ensemble import Unsupported, lightgbm_to_onnx

TRAINER = "lightgbm"
LIBRARY = "LightGBM"
#: Bumped when the trainer's output for the same inputs would change.
VERSION = 3  # 2: exported as one TreeEnsemble with set-membership splits; 3: the features' gain in the metadata


def fit(job: Job) -> Fitted:
    """Boosts on the fit rows with early stopping on the holdout (and, with `refit`, once more on every
    training row for the rounds early stopping chose); exports the best model."""
    trainer = job.params
    params = lightgbm_params(trainer, job.task, len(job.classes))
    if params["objective"] == "poisson" and (negative := int((job.y < 0).sum())):
        raise TrainingError(f"trainer.objective: poisson predicts counts, and {negative} training labels are negative (the smallest: {float(job.y.min()):g}); use regression or huber, or shift the label in label.sql")
    # Categorical features split natively on their codes (NaN, a category training never saw, goes the missing way).
    categorical = job.categorical or "auto"
    fit_set = lgb.Dataset(job.x[job.fit_rows], job.y[job.fit_rows], feature_name=job.names, categorical_feature=categorical, free_raw_data=False)
    holdout = lgb.Dataset(job.x[job.holdout_rows], job.y[job.holdout_rows], reference=fit_set)
    whole = lambda: lgb.Dataset(job.x, job.y, feature_name=job.names, categorical_feature=categorical, free_raw_data=False)  # noqa: E731
    booster, training = search_then_refit(
        job,
        lambda: boost(params, fit_set, holdout, trainer, job.checkpoint(".lgb.checkpoint.json"), job),
        lambda rounds: boost_rounds(params, whole(), None, rounds, None, job.checkpoint(".refit.lgb.checkpoint.json"), job),
    )
    if not job.export:
        return Fitted(None, training, booster.predict)
    try:
        model, tolerance = export(booster, len(job.names))
    except Exception as err:  # the converter raises many kinds
        raise TrainingError(f"trainer: the LightGBM model could not be exported to ONNX ({err}); nothing was registered") from err
    # LightGBM's own model beside the ONNX one: for `lightgbm.Booster(model_file=...)`, SHAP, or a comparison.
    gain = ("gain", [float(g) for g in booster.feature_importance(importance_type="gain")])
    return Fitted(model, training, booster.predict, native=("lightgbm.txt", lambda path: booster.save_model(path)), importance=gain, tolerance=tolerance)


#: How far the double-precision TreeEnsemble may score from LightGBM on any validation row: its comparisons are
#: LightGBM's, so only the float32 output's rounding remains.
EXACT_TOLERANCE = 1e-6


def export(booster: lgb.Booster, width: int) -> tuple[Any, float]:
    """One ONNX-ML TreeEnsemble with set-membership splits (sluice_python.tree_ensemble), exact to EXACT_TOLERANCE;
    onnxmltools' converter (float32 thresholds: the default tolerance) for a booster that has a split it cannot
    state (zero_as_missing)."""
    try:
        return lightgbm_to_onnx(booster, width), EXACT_TOLERANCE
    except Unsupported:
        return convert_lightgbm(booster, initial_types=[("input", FloatTensorType([None, width]))], zipmap=False), EXPORT_TOLERANCE


#: LightGBM's objective and the holdout metric early stopping watches, by task (a regression's by `objective`).
OBJECTIVES = {
    "binary": ("binary", "binary_logloss"),
    "multiclass": ("multiclass", "multi_logloss"),
    "regression": ("regression", "l2"),
    "huber": ("huber", "huber"),
    "poisson": ("poisson", "poisson"),
}


def lightgbm_params(trainer: dict[str, Any], task: str = "binary", classes: int = 0) -> dict[str, Any]:
    """The spec's trainer settings in LightGBM's words; deterministic for a fixed seed. A multiclass model
    boosts one tree per class and round (`num_class`), its probabilities a softmax of their sums."""
    objective, metric = OBJECTIVES[task if task != "regression" else trainer.get("objective") or "regression"]
    return {
        "objective": objective,
        "metric": metric,
        **({"num_class": classes} if task == "multiclass" else {}),
        "num_leaves": trainer.get("leaves", 63),
        "learning_rate": trainer.get("learning_rate", 0.1),
        "min_data_in_leaf": trainer.get("min_data_in_leaf", 20),
        "feature_fraction": trainer.get("feature_fraction", 1.0),
        "bagging_fraction": trainer.get("bagging_fraction", 1.0),
        "bagging_freq": trainer.get("bagging_freq", 0),
        "lambda_l1": trainer.get("l1", 0.0),
        "lambda_l2": trainer.get("l2", 0.0),
        **({"cat_smooth": trainer["cat_smooth"]} if trainer.get("cat_smooth") is not None else {}),
        **({"max_bin": trainer["max_bin"]} if trainer.get("max_bin") is not None else {}),
        "seed": trainer.get("seed", 7),
        "num_threads": trainer.get("threads", 0),
        "deterministic": True,
        "force_row_wise": True,
        "verbose": -1,
    }


def boost(params: dict[str, Any], fit_set: lgb.Dataset, holdout: lgb.Dataset, trainer: dict[str, Any], checkpoint_file: Path, job: Job) -> tuple[lgb.Booster, dict[str, Any]]:
    """Boosts up to `trees` rounds with early stopping on the holdout, and keeps the best round's model."""
    trees = trainer.get("trees", 300)
    stopping = EarlyStopping(trainer.get("early_stopping_rounds", 30))
    booster, resumed_from = boost_rounds(params, fit_set, holdout, trees, stopping, checkpoint_file, job)
    training = stopping.training(booster.current_iteration(), trees, resumed_from)
    best = training["bestIteration"]
    if best < training["iterations"]:
        booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    return booster, training


def boost_rounds(params: dict[str, Any], data: lgb.Dataset, holdout: lgb.Dataset | None, rounds: int, stopping: EarlyStopping | None, checkpoint_file: Path, job: Job) -> tuple[lgb.Booster, int]:
    """Boosts `rounds` rounds (fewer when `stopping` ends it sooner on `holdout`'s losses). Every few rounds it
    heartbeats and writes a checkpoint (the model so far and its holdout losses: Checkpoint); an attempt that
    finds a checkpoint continues from it. Returns the booster and the round it resumed after (0: from scratch)."""
    stopping = stopping or EarlyStopping(None)
    checkpoint = Checkpoint(checkpoint_file, job, stopping, rounds)
    saved = checkpoint.load()
    init_model = lgb.Booster(model_str=saved) if saved is not None else None
    resumed_from = init_model.current_iteration() if init_model else 0
    if init_model:
        job.hooks.log(f"resuming LightGBM after round {resumed_from}")
        if checkpoint.finished:
            return init_model, resumed_from

    def each_round(env: lgb.callback.CallbackEnv) -> None:
        losses = [value for data, _, value, _ in env.evaluation_result_list or [] if data == "holdout"]
        if checkpoint.reached(env.iteration + 1, env.model.model_to_string, float(losses[0]) if losses else None):
            # LightGBM's way out of its boosting loop.
            raise lgb.callback.EarlyStopException(stopping.best - 1, env.evaluation_result_list or [])

    booster = lgb.train(
        params,
        data,
        num_boost_round=rounds - resumed_from,
        valid_sets=[holdout] if holdout is not None else None,
        valid_names=["holdout"] if holdout is not None else None,
        init_model=init_model,
        keep_training_booster=True,
        callbacks=[each_round],
    )
    return booster, resumed_from
